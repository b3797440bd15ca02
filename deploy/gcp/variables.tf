variable "project" {
  description = "Project that holds the VPC network and its routes."
  type        = string
}

variable "region" {
  description = "Region of the functions, the scheduler job and the Eventarc triggers."
  type        = string
}

variable "network" {
  description = "Name of the VPC network whose routes portlb manages."
  type        = string
}

variable "owner" {
  description = "portlb owner id (the `owner` of the cluster's config): the marker on every route it writes."
  type        = string
  default     = "portlb"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.owner)) && length(var.owner) <= 63
    error_message = "owner must be a DNS label (lowercase letters, digits and -), at most 63 characters."
  }
}

variable "vips" {
  description = "The service VIP ranges (canonical CIDRs) portlb routes."
  type        = list(string)
  validation {
    condition     = length(var.vips) > 0 && alltrue([for v in var.vips : can(cidrhost(v, 0))])
    error_message = "vips must be a non-empty list of CIDRs."
  }
}

variable "priority" {
  description = "Priority of portlb's routes; equal priorities make Compute spread flows over them (ECMP)."
  type        = number
  default     = 1000
}

variable "source_bucket" {
  description = "Cloud Storage bucket holding the functions' source archive."
  type        = string
}

variable "source_object" {
  description = "Object name of the functions' source archive (the bundled functions/gcp, zipped)."
  type        = string
}

variable "runtime" {
  description = "Cloud Functions runtime."
  type        = string
  default     = "nodejs24"
}

variable "sweep_schedule" {
  description = "Cron schedule of the drift and blackhole sweep."
  type        = string
  default     = "*/5 * * * *"
}

variable "sidecar_service_account" {
  description = "Service account of the LB pods (Workload Identity). In the least-privilege topology it may only publish lifecycle messages; empty to skip."
  type        = string
  default     = ""
}

variable "sidecar_publish" {
  description = "The sidecars' gcp.publish: pubsub (least privilege: they may only publish lifecycle messages) or routes (they write their own routes with the portlb route role)."
  type        = string
  default     = "pubsub"
  validation {
    condition     = contains(["pubsub", "routes"], var.sidecar_publish)
    error_message = "sidecar_publish must be pubsub or routes."
  }
}

variable "sidecar_namespace" {
  description = "Namespace of the LB pods, whose Kubernetes ServiceAccount acts as sidecar_service_account (Workload Identity); the overlays' web."
  type        = string
  default     = "web"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.sidecar_namespace)) && length(var.sidecar_namespace) <= 63
    error_message = "sidecar_namespace must be a Kubernetes namespace name (a DNS label)."
  }
}

variable "sidecar_kubernetes_service_account" {
  description = "The LB pods' Kubernetes ServiceAccount in sidecar_namespace; the overlays' portlb-sidecar."
  type        = string
  default     = "portlb-sidecar"
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.sidecar_kubernetes_service_account)) && length(var.sidecar_kubernetes_service_account) <= 253
    error_message = "sidecar_kubernetes_service_account must be a Kubernetes object name (a DNS subdomain)."
  }
}

variable "workload_pool" {
  description = "The cluster's Workload Identity pool, CLUSTER_PROJECT.svc.id.goog; empty for project's (a cluster in a Shared VPC service project has its own)."
  type        = string
  default     = ""
}
