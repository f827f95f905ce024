#!/usr/bin/python3
# The instance's init, standing in for cloud-init on an EC2 instance: PID 1 of the instance container. As cloud-init
# does on first boot (cloud-init docs, "User data formats", "scripts-user"): it reads the user data from the instance
# metadata service — IMDSv2, a session token first (EC2 user guide, "Use the Instance Metadata Service to access
# instance metadata") — and runs a `#!` script as root, once, logging to /var/log/cloud-init-output.log. Then the
# machine keeps running until it powers off: `shutdown` (see shutdown) sends SIGTERM to PID 1, and the container ends
# as the instance would. Only shell-script user data is supported here (no #cloud-config, no MIME multipart).
import os, signal, subprocess, sys, time, urllib.request

endpoint = os.environ.get('AWS_EC2_METADATA_SERVICE_ENDPOINT', 'http://169.254.169.254/').rstrip('/')
log = open('/var/log/cloud-init-output.log', 'ab', buffering=0)

def say(line):
    data = f'cloud-init: {line}\n'.encode()
    sys.stdout.buffer.write(data); sys.stdout.flush(); log.write(data)

def power_off(signum, frame):
    say('power off')
    sys.exit(0)

signal.signal(signal.SIGTERM, power_off)

def metadata(path, token):
    request = urllib.request.Request(f'{endpoint}{path}', headers={'X-aws-ec2-metadata-token': token})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()

token = None
for attempt in range(30):
    try:
        request = urllib.request.Request(f'{endpoint}/latest/api/token', method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '21600'})
        with urllib.request.urlopen(request, timeout=5) as response:
            token = response.read().decode()
        break
    except OSError as error:
        say(f'metadata service not reachable yet: {error}')
        time.sleep(1)
if token is None:
    say('no metadata service: no user data run')
else:
    instance_id = metadata('/latest/meta-data/instance-id', token).decode()
    user_data = metadata('/latest/user-data', token)
    semaphore = f'/var/lib/cloud/instances/{instance_id}/sem/scripts_user'
    script = f'/var/lib/cloud/instances/{instance_id}/scripts/part-001'
    if os.path.exists(semaphore):
        say('user data already ran on this instance')
    elif not user_data.startswith(b'#!'):
        say('user data is not a #! script: not run (this stand-in runs shell scripts only)')
    else:
        os.makedirs(os.path.dirname(script), exist_ok=True)
        os.makedirs(os.path.dirname(semaphore), exist_ok=True)
        with open(script, 'wb') as f:
            f.write(user_data)
        os.chmod(script, 0o700)
        open(semaphore, 'w').close()
        say(f'running user data of {instance_id} as root')
        process = subprocess.Popen([script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd='/')
        for line in process.stdout:
            sys.stdout.buffer.write(line); sys.stdout.flush(); log.write(line)
        say(f'user data exited with {process.wait()}')
while True:
    signal.pause()
