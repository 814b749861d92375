// npm run lessons:registry: the lessons' local registry with their image, for a learner who
// types the commands by hand. Prints the variables the lessons use and runs until Ctrl-C.
import { CRI_TOOLS_BIN_DIR } from '../../test/helpers/cri-tools';
import { startLessonRegistry, LESSON_IMAGE } from './setup';

async function main(): Promise<void> {
  const registry = await startLessonRegistry();
  process.stdout.write(
    [
      `# a registry with ${LESSON_IMAGE} is listening; in the shell where you follow the lessons:`,
      `export REGISTRY=${registry.addr}`,
      'export TSRUN_STORE=/var/lib/tsrun TSRUN_ROOT=/run/tsrun LESSONS=$HOME/tsrun-lessons',
      `export PATH=$PATH:${CRI_TOOLS_BIN_DIR}  # crictl, for lesson 06 (bash scripts/install-cri-tools.sh)`,
      'mkdir -p $LESSONS && cd $LESSONS',
      '# (Ctrl-C here stops the registry)',
      '',
    ].join('\n'),
  );
  const stop = (): void => void registry.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
}

main().catch((e) => {
  process.stderr.write(`lessons:registry: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
