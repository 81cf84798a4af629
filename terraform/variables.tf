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

variable "images" {
  description = "Image of each app (npm run images builds reco-api, reco-stream-worker, reco-web)."
  type = object({
    api           = string
    stream_worker = string
    web           = string
  })
}

variable "database_url" {
  description = "PostgreSQL URL (managed database); stored in a Kubernetes secret."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("^postgres(ql)?://", var.database_url))
    error_message = "database_url must be a postgresql:// URL."
  }
}

variable "redis_url" {
  description = "Redis URL for the recommendation cache and real-time features; stored in a secret."
  type        = string
  sensitive   = true
  validation {
    condition     = can(regex("^rediss?://", var.redis_url))
    error_message = "redis_url must be a redis:// or rediss:// URL."
  }
}

variable "kafka_brokers" {
  description = "Comma-separated Kafka bootstrap brokers (host:port)."
  type        = string
  validation {
    condition     = can(regex("^[\\w.-]+:\\d+(,[\\w.-]+:\\d+)*$", var.kafka_brokers))
    error_message = "kafka_brokers must be host:port[,host:port...]."
  }
}

variable "topic_prefix" {
  description = "Prefix of the bus topics."
  type        = string
  default     = "reco"
}

variable "topic_partitions" {
  description = "Partitions of the event topics: the stream worker's replicas may not exceed it."
  type        = number
  default     = 6
}

variable "s3_endpoint" {
  description = "Object storage endpoint (S3 API) holding model versions and snapshots."
  type        = string
}

variable "s3_bucket" {
  description = "Bucket for model versions and snapshots."
  type        = string
}

variable "s3_region" {
  description = "Region sent with S3 requests."
  type        = string
  default     = "us-east-1"
}

variable "s3_prefix" {
  description = "Key prefix inside the bucket (empty = the bucket's root)."
  type        = string
  default     = ""
}

variable "s3_access_key_id" {
  description = "Object storage access key id; stored in a Kubernetes secret."
  type        = string
  sensitive   = true
}

variable "s3_secret_access_key" {
  description = "Object storage secret key; stored in a Kubernetes secret."
  type        = string
  sensitive   = true
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

variable "api_target_cpu_percent" {
  description = "Average CPU use (of the request) the api autoscaler aims at."
  type        = number
  default     = 70
}

variable "api_target_requests_per_second" {
  description = "Requests per second per api pod the autoscaler aims at (prometheus-adapter metric reco_http_requests_per_second, deploy/prometheus/adapter.yaml)."
  type        = string
  default     = "150"
}

variable "worker_replicas" {
  description = "Stream-worker consumers in the group; at most topic_partitions (extra ones would idle)."
  type        = number
  default     = 2
}

variable "web_replicas" {
  description = "Dashboard replicas."
  type        = number
  default     = 2
}

variable "shared_volume_claim" {
  description = "ReadWriteMany claim mounted at /data (DATA_DIR) by the api and the stream worker."
  type        = string
}
