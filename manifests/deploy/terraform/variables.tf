variable "name" {
  description = "Name of the ECS service, task family, roles, log group and queue prefix."
  type        = string
  default     = "ecs-log-operator"
}

variable "cluster_arn" {
  description = "The ECS cluster the operator runs in (its own control-plane cluster is a good place)."
  type        = string
}

variable "image" {
  description = "The operator image with the specs baked in under specs_dir (see ../README.md, step 1)."
  type        = string
}

variable "subnets" {
  description = "Private subnets for the operator's tasks (awsvpc). Two or more, in different zones."
  type        = list(string)
}

variable "security_groups" {
  description = "Security groups of the tasks; admit TCP 9464 from Prometheus only."
  type        = list(string)
}

variable "assign_public_ip" {
  type    = bool
  default = false
}

variable "operator_policy_json" {
  description = <<-EOT
    The least-privilege policy the specs need, as `ecs-log-operator iam-policy specs/ --account ... --region ...`
    prints it (e.g. file("task-role-policy.json")). The lease table and the events queue are granted by this module.
  EOT
  type        = string
}

variable "owner_id" {
  description = "--owner-id: marks what this operator owns in AWS."
  type        = string
  default     = "default"
}

variable "specs_dir" {
  type    = string
  default = "/specs"
}

variable "interval" {
  description = "--interval: how often AWS is listed and everything resynced."
  type        = string
  default     = "30s"
}

variable "desired_count" {
  description = "Replicas: one leads and writes, the others stand by (and take over within lease duration + retry period)."
  type        = number
  default     = 2
}

variable "lease_table_name" {
  description = "--leader-elect-table: the DynamoDB table of the lease, created here (on-demand)."
  type        = string
  default     = "ecs-log-operator-leases"
}

variable "lease_resource_name" {
  description = "--leader-elect-resource-name; null: ecs-log-operator-<owner_id>, as the operator derives it."
  type        = string
  default     = null
}

variable "leader_elect_lease_duration" {
  type    = string
  default = "15s"
}

variable "leader_elect_renew_deadline" {
  type    = string
  default = "10s"
}

variable "leader_elect_retry_period" {
  type    = string
  default = "2s"
}

variable "cpu" {
  type    = string
  default = "256"
}

variable "memory" {
  type    = string
  default = "512"
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "service_registry_arn" {
  description = "A Cloud Map service to register the tasks in, for Prometheus's DNS discovery (optional)."
  type        = string
  default     = null
}

variable "tags" {
  type    = map(string)
  default = { app = "ecs-log-operator" }
}
