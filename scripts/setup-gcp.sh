#!/usr/bin/env bash
# What the GCP tests need (called by scripts/setup.sh), idempotent:
# - Java, for the Pub/Sub emulator (Debian's OpenJDK 17 when missing);
# - the Pub/Sub emulator of the Google Cloud SDK (the Debian package google-cloud-cli-pubsub-emulator,
#   from Google's apt repository: preinstalled on this project's machine image; installed here only
#   where that repository is configured);
# - terraform, for `terraform fmt -check` of deploy/gcp (preinstalled at /usr/local/bin/terraform on
#   this image; it does not build from its Go module: v1.11's nested modules are not in the module
#   zip, so a missing binary is reported, not built).
# The Functions Framework comes with `npm ci` (devDependency).
set -euo pipefail

step() { printf '\n== setup-gcp: %s\n' "$*"; }
emulator_lib=/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib

if ! command -v java >/dev/null 2>&1; then
  step 'apt-get install openjdk-17-jre-headless (for the Pub/Sub emulator)'
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless
fi

if ! compgen -G "$emulator_lib/cloud-pubsub-emulator-*-all.jar" >/dev/null; then
  step 'Pub/Sub emulator (google-cloud-cli-pubsub-emulator)'
  if apt-cache policy google-cloud-cli-pubsub-emulator 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends google-cloud-cli-pubsub-emulator
  else
    echo "setup-gcp: the Pub/Sub emulator is missing ($emulator_lib) and no apt source offers google-cloud-cli-pubsub-emulator; the GCP integration tests will fail" >&2
  fi
fi

if ! command -v terraform >/dev/null 2>&1 && [ ! -x /var/cache/portlb/terraform/bin/terraform ]; then
  echo 'setup-gcp: terraform not found (PATH or /var/cache/portlb/terraform/bin): test/integration/gcp-deploy.test.ts will fail' >&2
fi
