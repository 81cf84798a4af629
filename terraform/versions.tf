terraform {
  required_version = ">= 1.6"
  required_providers {
    kubernetes = {
      source = "hashicorp/kubernetes"
      # 1.13.4 is the newest release published as a Go module (later tags keep the module path
      # without /v2), so it is the one scripts/tools.sh builds and `tofu validate` checks. Every
      # resource used here exists with the same schema in 2.x, where they are deprecated aliases.
      version = ">= 1.13.4"
    }
  }
}

provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}
