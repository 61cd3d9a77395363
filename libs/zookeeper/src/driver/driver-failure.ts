/** A failed driver call: ZooKeeper's result code (`ZookeeperErrorCode`) and a text. */
export class DriverFailure {
  constructor(
    readonly rc: number,
    readonly message: string,
  ) {}
}
