// Makes sure the Curator interop tests (test/recipes/curator) can run: Java with javac, the
// ZooKeeper client jars and Curator 5 (framework, recipes, discovery) with Guava and Jackson,
// installing Debian's packages with apt-get when running as root. Prints the classpath.
// Exit code 0 also when Curator cannot be had: those tests then skip and say why.
import {
  CuratorInstallationError,
  locateCurator,
} from '../test/recipes/curator/curator-installation.js';

const prefix = '[curator:ensure]';

async function main(): Promise<number> {
  const started = Date.now();
  try {
    const curator = await locateCurator({
      installIfMissing: true,
      log: (line) => console.log(`${prefix} ${line}`),
    });
    console.log(
      `${prefix} Curator ${curator.curatorVersion ?? '(unknown version)'} via ${curator.source}, ` +
        `javac at ${curator.javacPath} (${Date.now() - started} ms)`,
    );
    console.log(`${prefix} classpath: ${curator.classpath}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CuratorInstallationError)) throw error;
    console.warn(`${prefix} ${error.message}`);
    console.warn(`${prefix} the Curator interop tests will be skipped`);
    return process.env.CURATOR_REQUIRED ? 1 : 0;
  }
}

process.exitCode = await main();
