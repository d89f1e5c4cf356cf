"""Runs the commands of README.md's "Try it" block, as a user would.

  readme-commands.py README SRC_ROOT BUILD_DIR WORK [--gpu]

Takes the ```sh block after "## Try it", joins continued lines, and runs
each command with bash in WORK, where `examples` is a link to the sources'
examples and `build/bin` to the build's tools (a user's clone). Commands
that need a GPU (--device=cuda) run only with --gpu and are reported as
skipped otherwise. Prints one line per command; exits 1 if any fails.
"""
import os
import subprocess
import sys

readme, src, build, work = sys.argv[1:5]
gpu = "--gpu" in sys.argv[5:]
text = open(readme).read()
block = text.split("## Try it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
commands, current = [], ""
for line in block.splitlines():
    if not line.strip():
        continue
    current += line.rstrip()
    if current.endswith("\\"):
        current = current[:-1] + " "
        continue
    commands.append(current.strip())
    current = ""
os.makedirs(os.path.join(work, "build"), exist_ok=True)
for name, target in (("examples", os.path.join(src, "examples")),
                     (os.path.join("build", "bin"), os.path.join(build, "bin"))):
    link = os.path.join(work, name)
    if not os.path.lexists(link):
        os.symlink(target, link)
env = dict(os.environ, NLC_CACHE_DIR=os.path.join(work, "cache"))
failed = 0
for cmd in commands:
    if "--device=cuda" in cmd and not gpu:
        print(f"SKIP (no GPU): {cmd}")
        continue
    p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=work,
                       env=env, capture_output=True, text=True)
    if p.returncode:
        failed += 1
        print(f"FAIL ({p.returncode}): {cmd}\n  {p.stderr.strip()[:400]}")
    else:
        print(f"ok: {cmd}")
print(f"readme-commands: {len(commands)} commands, {failed} failed")
sys.exit(1 if failed else 0)
