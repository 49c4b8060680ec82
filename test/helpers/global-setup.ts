/**
 * Runs once before the suite: the tests need Debian's `redis-server` (test/helpers/redis.ts starts its own). When it
 * is missing, root installs it with apt-get; anyone else gets the one command to run, at once, instead of a
 * timeout 150 s later.
 */
import { execFileSync } from "node:child_process";

const has = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

export default function setup(): void {
  if (has("redis-server", ["--version"])) return;
  if (process.getuid?.() === 0 && has("apt-get", ["--version"])) {
    process.stderr.write("redis-server is missing: installing it with apt-get (the tests start their own)\n");
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
    execFileSync("apt-get", ["install", "-y", "-qq", "redis-server"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (has("redis-server", ["--version"])) return;
  }
  throw new Error("npm test needs redis-server on PATH (the tests start their own). Install it: sudo apt-get install -y redis-server (macOS: brew install redis)");
}
