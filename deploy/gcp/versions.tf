# portlb on GCP: the Cloud Functions that react to instances going away, sweep on a schedule and
# program routes from LB lifecycle messages, with their topics, the audit-log sink, the scheduler
# job and a least-privilege custom role. See docs/gcp.md.
terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
