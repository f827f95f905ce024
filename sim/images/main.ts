import Docker from 'dockerode';
import { ensureSimAmiImage, SIM_AMI_IMAGE } from '../ec2/instance';
import { ensureSimRunnerImage, SIM_RUNNER_IMAGE } from '../runner/image';

/* `make host-images`: builds (or confirms) the local host images: the runner image and the EC2 instance image. */
const docker = new Docker();
await ensureSimRunnerImage(docker);
console.log(`${SIM_RUNNER_IMAGE}: up to date`);
await ensureSimAmiImage(docker);
console.log(`${SIM_AMI_IMAGE}: up to date`);
