# Exactly the Compute permissions portlb's code calls: the list in
# src/providers/gcp/permissions.ts (test/deploy/gcp.test.ts compares the two).
resource "google_project_iam_custom_role" "portlb_routes" {
  role_id     = "portlbRoutes"
  title       = "portlb route writer"
  description = "Read and write the VPC routes portlb owns, wait on their operations, read instances' canIpForward."
  permissions = [
    "compute.globalOperations.get",
    "compute.instances.get",
    "compute.networks.updatePolicy",
    "compute.routes.create",
    "compute.routes.delete",
    "compute.routes.get",
    "compute.routes.list",
  ]
}

resource "google_service_account" "functions" {
  account_id   = "portlb-functions"
  display_name = "portlb Cloud Functions"
}

# gcp.publish: routes: every LB pod writes its own routes, with the same role.
resource "google_project_iam_member" "sidecar_routes" {
  count   = var.sidecar_service_account != "" && var.sidecar_publish == "routes" ? 1 : 0
  project = var.project
  role    = google_project_iam_custom_role.portlb_routes.id
  member  = "serviceAccount:${var.sidecar_service_account}"
}

locals {
  # NAME@PROJECT.iam.gserviceaccount.com lives in PROJECT, which need not be var.project; for any
  # other form of address IAM finds the account's project itself ("-").
  sidecar_account_project = try(regex("@([a-z][-a-z0-9]*)\\.iam\\.gserviceaccount\\.com$", var.sidecar_service_account)[0], "-")
  workload_pool           = var.workload_pool != "" ? var.workload_pool : "${var.project}.svc.id.goog"
}

# Workload Identity: the LB pods' Kubernetes ServiceAccount may act as the sidecar's Google
# service account (the iam.gke.io/gcp-service-account annotation in the gcp overlays names it).
resource "google_service_account_iam_member" "sidecar_workload_identity" {
  count              = var.sidecar_service_account != "" ? 1 : 0
  service_account_id = "projects/${local.sidecar_account_project}/serviceAccounts/${var.sidecar_service_account}"
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[${var.sidecar_namespace}/${var.sidecar_kubernetes_service_account}]"
}

resource "google_project_iam_member" "functions_routes" {
  project = var.project
  role    = google_project_iam_custom_role.portlb_routes.id
  member  = "serviceAccount:${google_service_account.functions.email}"
}

# Eventarc delivers each Pub/Sub message to the function's Cloud Run service as this account.
resource "google_service_account" "trigger" {
  account_id   = "portlb-trigger"
  display_name = "portlb Eventarc triggers"
}
