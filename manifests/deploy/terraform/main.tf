# ecs-log-operator on ECS, highly available: the lease table, the events queue and its EventBridge rule, the task and
# execution roles (with the policy `iam-policy` computed from the specs), the task definition and a service of two
# replicas with leader election on and ECS's ordinary rolling deployment. See ../LEADER-ELECTION.md.

data "aws_region" "current" {}

locals {
  resource_name = coalesce(var.lease_resource_name, "ecs-log-operator-${var.owner_id}")
  log_group     = "/ecs/${var.name}"
  # The events that change what the operator reconciles, as in ../events.cfn.yaml.
  event_pattern = {
    source = ["aws.ecs", "aws.autoscaling"]
    "detail-type" = [
      "ECS Task State Change",
      "EC2 Instance Launch Successful",
      "EC2 Instance Terminate Successful",
      "EC2 Instance-terminate Lifecycle Action",
    ]
  }
}

# ---- The lease: one item per lease name, written only with conditional PutItem. The item holds the epoch (the
# fencing token); a table recreated empty restarts it, which costs a new leader one lease duration per fenced zone
# (it steps down once on the fence's later epoch, then takes an epoch above it).
resource "aws_dynamodb_table" "lease" {
  name         = var.lease_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "name"

  attribute {
    name = "name"
    type = "S"
  }

  tags = var.tags
}

# ---- Events: EventBridge forwards ECS task and Auto Scaling events to the queue `run --events-queue-url` reads.
resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "events" {
  name = "${var.name}-events"
  # Events older than a resync interval are worth nothing: the resync has seen the same state.
  message_retention_seconds  = 3600
  visibility_timeout_seconds = 60
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq.arn
    maxReceiveCount     = 5
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "events" {
  name          = "${var.name}-events"
  description   = "AWS events that change what ecs-log-operator reconciles"
  event_pattern = jsonencode(local.event_pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "events" {
  rule      = aws_cloudwatch_event_rule.events.name
  target_id = "${var.name}-queue"
  arn       = aws_sqs_queue.events.arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 20
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeSendsOnlyFromTheRule"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.events.arn
        Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.events.arn } }
      },
      {
        Sid       = "OperatorReceives"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.task.arn }
        Action    = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource  = aws_sqs_queue.events.arn
      },
    ]
  })
}

# ---- Roles. The task role carries the specs' policy (computed by `iam-policy`) and what this module adds: exactly
# the lease table's actions on the lease's own item (no CreateTable: the table is created here) and the events queue.
data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "specs" {
  name   = "${var.name}-specs"
  role   = aws_iam_role.task.id
  policy = var.operator_policy_json
}

resource "aws_iam_role_policy" "runtime" {
  name = "${var.name}-runtime"
  role = aws_iam_role.task.id
  # The lease statements are what controllers/leader-election/iam.ts computes (test/integration/terraform-module.test.ts
  # checks they are the same).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LeaderElectionLease"
        Effect    = "Allow"
        Action    = ["dynamodb:GetItem", "dynamodb:PutItem"]
        Resource  = aws_dynamodb_table.lease.arn
        Condition = { "ForAllValues:StringEquals" = { "dynamodb:LeadingKeys" = [local.resource_name] } }
      },
      {
        Sid      = "LeaderElectionLeaseTable"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeTable"]
        Resource = aws_dynamodb_table.lease.arn
      },
      {
        Sid      = "ReceiveTaskEventsFromQueue"
        Effect   = "Allow"
        Action   = ["sqs:DeleteMessage", "sqs:ReceiveMessage"]
        Resource = aws_sqs_queue.events.arn
      },
    ]
  })
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# ---- The task and the service.
resource "aws_cloudwatch_log_group" "operator" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "operator" {
  family                   = var.name
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = var.cpu
  memory                   = var.memory

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = var.name
      image     = var.image
      essential = true
      command = [
        "run", var.specs_dir,
        "--interval", var.interval,
        "--metrics-bind-address", ":9464",
        "--events-queue-url", aws_sqs_queue.events.url,
        "--owner-id", var.owner_id,
        "--leader-elect",
        "--leader-elect-table", aws_dynamodb_table.lease.name,
        "--leader-elect-resource-name", local.resource_name,
        "--leader-elect-lease-duration", var.leader_elect_lease_duration,
        "--leader-elect-renew-deadline", var.leader_elect_renew_deadline,
        "--leader-elect-retry-period", var.leader_elect_retry_period,
      ]
      environment = [
        { name = "AWS_REGION", value = data.aws_region.current.name },
        { name = "NODE_OPTIONS", value = "--max-old-space-size=384" },
      ]
      portMappings = [{ name = "metrics", containerPort = 9464, protocol = "tcp" }]
      # The Dockerfile's HEALTHCHECK: liveness only; a healthy standby is healthy.
      healthCheck = {
        command     = ["CMD", "node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      user                   = "10001:10001"
      readonlyRootFilesystem = true
      linuxParameters        = { initProcessEnabled = true }
      # SIGTERM: the leader finishes its writes, then releases the lease; the standby takes over within a retry period.
      stopTimeout = 30
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.operator.name
          "awslogs-region"        = data.aws_region.current.name
          "awslogs-stream-prefix" = "operator"
          "mode"                  = "non-blocking"
          "max-buffer-size"       = "4m"
        }
      }
    }
  ])

  tags = var.tags
}

resource "aws_ecs_service" "operator" {
  name            = var.name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.operator.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  # ECS's ordinary rolling deployment: the new task starts (as a standby) before the old one stops and hands over.
  deployment_maximum_percent         = 200
  deployment_minimum_healthy_percent = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnets
    security_groups  = var.security_groups
    assign_public_ip = var.assign_public_ip
  }

  dynamic "service_registries" {
    for_each = var.service_registry_arn == null ? [] : [var.service_registry_arn]
    content {
      registry_arn = service_registries.value
    }
  }

  propagate_tags         = "TASK_DEFINITION"
  enable_execute_command = false
  tags                   = var.tags
}
