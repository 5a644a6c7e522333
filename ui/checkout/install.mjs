// Installs a built checkout bundle where posd's bundle host serves it
// (/ui/checkout/), as a development release: unsigned and not through
// posd's release installer (`posctl bundles`), for the demo and the tests.
//
//   node install.mjs DIST_DIR BUNDLES_DIR
//
// The files go to BUNDLES_DIR/checkout/releases/dev-HASH/ (HASH of their
// names and bytes) and BUNDLES_DIR/checkout/current is switched to it with
// one rename, so posd never serves a half-written release.
import { createHash } from "node:crypto";
import {
  cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync,
} from "node:fs";
import { join, resolve } from "node:path";

const [distArg, bundlesArg] = process.argv.slice(2);
if (distArg === undefined || bundlesArg === undefined) {
  console.error("usage: node install.mjs DIST_DIR BUNDLES_DIR");
  process.exit(2);
}
const dist = resolve(distArg);
if (!existsSync(join(dist, "index.html"))) {
  console.error(`install: ${dist} holds no built bundle (index.html); build it first (target checkout_ui)`);
  process.exit(1);
}

const files = readdirSync(dist).sort();
const hash = createHash("sha256");
for (const name of files) hash.update(name).update(readFileSync(join(dist, name)));
const version = `dev-${hash.digest("hex").slice(0, 12)}`;
const bundleDir = join(resolve(bundlesArg), "checkout");
const releaseDir = join(bundleDir, "releases", version);
if (!existsSync(releaseDir)) {
  const staging = `${releaseDir}.staging`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const name of files) cpSync(join(dist, name), join(staging, name));
  renameSync(staging, releaseDir);
}
const next = join(bundleDir, "current.next");
rmSync(next, { force: true });
symlinkSync(join("releases", version), next);
renameSync(next, join(bundleDir, "current"));
console.log(`checkout ${version} installed in ${bundleDir} (served at /ui/checkout/)`);
