variable "kubeconfig_path" {
  description = "Path to the kubeconfig of the target cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context to deploy into (null = current)."
  type        = string
  default     = null
}

variable "namespace" {
  description = "Namespace for every Reco workload."
  type        = string
  default     = "reco"
}

variable "image" {
  description = "Container image holding the monorepo (built from this repository)."
  type        = string
}

variable "database_url" {
  description = "PostgreSQL URL (managed database); stored in a Kubernetes secret."
  type        = string
  sensitive   = true
}

variable "redis_url" {
  description = "Redis URL for the recommendation cache and real-time features."
  type        = string
  sensitive   = true
}

variable "kafka_brokers" {
  description = "Comma-separated Kafka bootstrap brokers (host:port)."
  type        = string
}

variable "topic_prefix" {
  description = "Prefix of the bus topics."
  type        = string
  default     = "reco"
}

variable "api_replicas" {
  description = "Minimum api replicas; the autoscaler adds more under load."
  type        = number
  default     = 2
}

variable "api_max_replicas" {
  description = "Upper bound for the api autoscaler."
  type        = number
  default     = 10
}

variable "worker_replicas" {
  description = "Stream-worker consumers in the group (at most the topic partition count do work)."
  type        = number
  default     = 2
}

variable "shared_volume_claim" {
  description = "ReadWriteMany claim holding snapshots/ and registry/ (shared by api and worker)."
  type        = string
}
