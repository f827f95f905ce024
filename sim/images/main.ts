import Docker from 'dockerode';
import { ensureSimAmiImage, SIM_AMI_IMAGE } from '../ec2/instance';
import { ensureSimRunnerLambdaImage, SIM_RUNNER_LAMBDA_IMAGE } from '../lambda/execution-environment';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../runner/image';

/*
 * `make host-images`: builds (or confirms) the local host images — the runner image, the EC2 instance image and the
 * runner Lambda's execution environment (which carries dist/runner-lambda: run after `make build`). `make test` runs it
 * first, so that no test waits on a first build (the Debian base takes about a minute on a fresh machine).
 */
const docker = new Docker();
await ensureSimRunnerImage(docker);
console.log(`${SIM_RUNNER_IMAGE}: up to date`);
await ensureSimAmiImage(docker);
console.log(`${SIM_AMI_IMAGE}: up to date`);
await ensureSimRunnerLambdaImage(docker);
console.log(`${SIM_RUNNER_LAMBDA_IMAGE}: up to date`);
