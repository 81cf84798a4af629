# An example environment: copy, fill in, and pass with -var-file. Secrets (the URLs with passwords
# and the object-storage keys) are better given as TF_VAR_database_url etc. than written here.
namespace = "reco"
images = {
  api           = "registry.example/reco-api:0.1.0"
  stream_worker = "registry.example/reco-stream-worker:0.1.0"
  web           = "registry.example/reco-web:0.1.0"
}
database_url         = "postgresql://reco:change-me@postgres.example:5432/reco"
redis_url            = "redis://redis.example:6379"
kafka_brokers        = "kafka-0.example:9092,kafka-1.example:9092"
topic_partitions     = 6
s3_endpoint          = "https://s3.example"
s3_bucket            = "reco-models"
s3_access_key_id     = "change-me"
s3_secret_access_key = "change-me"
shared_volume_claim  = "reco-data"
api_replicas         = 2
api_max_replicas     = 10
worker_replicas      = 3
web_replicas         = 2
