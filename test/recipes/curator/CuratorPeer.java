import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The Curator side of the interop tests (test/recipes/curator). It talks in lines: events on
 * stdout as "<event> <epoch ms> [detail]", commands on stdin.
 *
 *   mutex <connect> <lockPath> <rounds> <holdMs> <counterPath>
 *     prints "ready", waits for "go", then per round: acquires an InterProcessMutex, reads the
 *     counter, sleeps holdMs, writes counter + 1 with the version it read ("conflict" if that
 *     fails: someone wrote while we held the lock), releases. Ends with "done".
 *   latch <connect> <latchPath> <participantId>
 *     runs a LeaderLatch; prints "node <path>" once queued, "leader"/"not-leader" on changes.
 *     stdin "who" prints "leader-id <id>"; "close" or end of input closes it ("closing", "closed").
 *   discovery <connect> <basePath> <name> <id> <port>
 *     registers an instance (address 127.0.0.1, payload {"zone":"eu-java"}) with ServiceDiscovery
 *     and prints "registered <id>"; stdin "list <name>" prints "instance <id> <address> <port>
 *     <zone>" per instance then "listed"; "close" or end of input unregisters ("closed").
 */
public final class CuratorPeer {
  private CuratorPeer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: mutex <connect> <lockPath> <rounds> <holdMs> <counterPath>");
      System.err.println("       latch <connect> <latchPath> <participantId>");
      System.exit(2);
    }
    CuratorFramework client =
        CuratorFrameworkFactory.newClient(args[1], 4000, 10000, new ExponentialBackoffRetry(100, 10));
    client.start();
    if (!client.blockUntilConnected(15, TimeUnit.SECONDS)) {
      say("error", "no connection to " + args[1]);
      System.exit(1);
    }
    switch (args[0]) {
      case "mutex":
        runMutex(client, args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]), args[5]);
        break;
      case "latch":
        runLatch(client, args[2], args[3]);
        break;
      case "discovery":
        runDiscovery(client, args[2], args[3], args[4], Integer.parseInt(args[5]));
        break;
      default:
        say("error", "unknown command " + args[0]);
        System.exit(2);
    }
    client.close();
    System.exit(0);
  }

  private static synchronized void say(String event, String detail) {
    System.out.println(event + " " + System.currentTimeMillis() + (detail.isEmpty() ? "" : " " + detail));
    System.out.flush();
  }

  private static void runMutex(
      CuratorFramework client, String lockPath, int rounds, long holdMs, String counterPath)
      throws Exception {
    InterProcessMutex mutex = new InterProcessMutex(client, lockPath);
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    say("ready", "");
    for (String line = input.readLine(); line != null && !line.equals("go"); line = input.readLine()) {
      // Only "go" starts the rounds, so both sides begin contending together.
    }
    for (int round = 0; round < rounds; round++) {
      mutex.acquire();
      say("acquired", "");
      Stat stat = new Stat();
      byte[] data = client.getData().storingStatIn(stat).forPath(counterPath);
      int value = Integer.parseInt(new String(data, StandardCharsets.UTF_8));
      Thread.sleep(holdMs);
      try {
        byte[] next = String.valueOf(value + 1).getBytes(StandardCharsets.UTF_8);
        client.setData().withVersion(stat.getVersion()).forPath(counterPath, next);
      } catch (KeeperException.BadVersionException e) {
        say("conflict", String.valueOf(value));
      }
      say("releasing", "");
      mutex.release();
    }
    say("done", "");
  }

  private static void runLatch(CuratorFramework client, String latchPath, String participantId)
      throws Exception {
    LeaderLatch latch = new LeaderLatch(client, latchPath, participantId);
    latch.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            say("leader", "");
          }

          @Override
          public void notLeader() {
            say("not-leader", "");
          }
        });
    latch.start();
    // LeaderLatch announces no event for its node: polled, with a deadline.
    long deadline = System.currentTimeMillis() + 30_000;
    while (latch.getOurPath() == null) {
      if (System.currentTimeMillis() > deadline)
        throw new IllegalStateException("LeaderLatch created no node within 30 s");
      Thread.sleep(10);
    }
    say("node", latch.getOurPath());
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = input.readLine(); line != null; line = input.readLine()) {
      if (line.equals("close")) break;
      if (line.equals("who")) say("leader-id", latch.getLeader().getId());
    }
    say("closing", "");
    latch.close();
    say("closed", "");
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static void runDiscovery(
      CuratorFramework client, String basePath, String name, String id, int port) throws Exception {
    ServiceDiscovery<Map> discovery =
        ServiceDiscoveryBuilder.builder(Map.class).client(client).basePath(basePath).build();
    discovery.start();
    Map<String, Object> payload = new HashMap<>();
    payload.put("zone", "eu-java");
    discovery.registerService(
        ServiceInstance.<Map>builder().name(name).id(id).address("127.0.0.1").port(port).payload(payload).build());
    say("registered", id);
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = input.readLine(); line != null; line = input.readLine()) {
      if (line.equals("close")) break;
      if (line.startsWith("list ")) {
        for (ServiceInstance<Map> found : discovery.queryForInstances(line.substring(5))) {
          Object zone = found.getPayload() == null ? null : found.getPayload().get("zone");
          say("instance", found.getId() + " " + found.getAddress() + " " + found.getPort() + " " + zone);
        }
        say("listed", "");
      }
    }
    discovery.close();
    say("closed", "");
  }
}
