/**
 * The configuration properties Fluent Bit's output plugins accept, as of Fluent Bit v5.1.1: the names only, read
 * from each plugin's `config_map` table and from the engine's own property handling. Fluent Bit rejects an output
 * section holding any other property (`unknown configuration property`, src/flb_config_map.c
 * flb_config_map_properties_check) and the router, being essential, stops the task; FireLens turns every option and
 * every secretOption of an `awsfirelens` log configuration into such a property. Names compare case-insensitively,
 * as Fluent Bit compares them.
 */

/**
 * Properties the engine takes for every output before the plugin sees them: src/flb_output.c
 * (flb_output_set_property and the output config map). `name` selects the plugin.
 */
const CORE = [
  "name",
  "match",
  "match_regex",
  "alias",
  "log_level",
  "log_suppress_interval",
  "host",
  "port",
  "ipv6",
  "retry_limit",
  "workers",
  "storage.total_limit_size",
  "tls",
  "tls.verify",
  "tls.verify_hostname",
  "tls.debug",
  "tls.ca_path",
  "tls.ca_file",
  "tls.crt_file",
  "tls.key_file",
  "tls.key_passwd",
  "tls.vhost",
  "tls.min_version",
  "tls.max_version",
  "tls.ciphers",
  "tls.proxy.ca_file",
  "tls.proxy.ca_path",
  "tls.proxy.verify",
  "tls.proxy.verify_hostname",
] as const;

/** `net.*` networking properties of plugins that use the upstream interface (FLB_OUTPUT_NET): src/flb_upstream.c. */
const NET = [
  "net.dns.mode",
  "net.dns.resolver",
  "net.dns.prefer_ipv4",
  "net.dns.prefer_ipv6",
  "net.keepalive",
  "net.keepalive_idle_timeout",
  "net.tcp_keepalive",
  "net.tcp_keepalive_time",
  "net.tcp_keepalive_interval",
  "net.tcp_keepalive_probes",
  "net.io_timeout",
  "net.connect_timeout",
  "net.connect_timeout_log_error",
  "net.source_address",
  "net.keepalive_max_recycle",
  "net.max_worker_connections",
  "net.proxy_env_ignore",
] as const;

/**
 * Options FireLens reads itself and does not pass to Fluent Bit: valid in the first output's options (its
 * `awsfirelens` log configuration) only. ECS documents `log-driver-buffer-limit` (the Docker log driver's buffer, in
 * lines) and, for Fluent Bit, `include-pattern` / `exclude-pattern` (grep filters FireLens generates).
 */
export const FIRELENS_OPTIONS = ["log-driver-buffer-limit", "include-pattern", "exclude-pattern"] as const;

export interface OutputPluginProperties {
  /** The plugin's `Name`. */
  readonly plugin: string;
  /** Where the names come from in Fluent Bit's source, for a reader who wants to check them. */
  readonly source: string;
  /** Every property the plugin accepts, lower case. */
  readonly properties: ReadonlySet<string>;
  /** Properties whose value is a credential: given only as secrets, by ARN. */
  readonly secrets: ReadonlySet<string>;
}

function plugin(
  name: string,
  source: string,
  own: readonly string[],
  options: { net: boolean; secrets: readonly string[] },
): OutputPluginProperties {
  return {
    plugin: name,
    source,
    properties: new Set([...CORE, ...(options.net ? NET : []), ...own].map((p) => p.toLowerCase())),
    secrets: new Set(["tls.key_passwd", ...options.secrets]),
  };
}

/** The Fluent Bit output plugin behind each output kind of a LogRouter (awslogs has none: it is no FireLens). */
export const OUTPUT_PLUGINS = {
  datadog: plugin(
    "datadog",
    "plugins/out_datadog/datadog.c",
    [
      "compress",
      "apikey",
      "dd_service",
      "dd_source",
      "dd_tags",
      "dd_hostname",
      "proxy",
      "include_tag_key",
      "tag_key",
      "dd_message_key",
      "provider",
      "json_date_key",
    ],
    { net: true, secrets: ["apikey"] },
  ),
  cloudwatch: plugin(
    "cloudwatch_logs",
    "plugins/out_cloudwatch_logs/cloudwatch_logs.c",
    [
      "region",
      "log_group_name",
      "log_stream_name",
      "log_stream_prefix",
      "log_group_template",
      "log_stream_template",
      "log_key",
      "extra_user_agent",
      "log_format",
      "role_arn",
      "auto_create_group",
      "auto_retry_requests",
      "log_retention_days",
      "endpoint",
      "sts_endpoint",
      "external_id",
      "metric_namespace",
      "metric_dimensions",
      "profile",
      "log_group_class",
      "add_entity",
    ],
    { net: false, secrets: [] },
  ),
  firehose: plugin(
    "kinesis_firehose",
    "plugins/out_kinesis_firehose/firehose.c",
    [
      "region",
      "delivery_stream",
      "time_key",
      "time_key_format",
      "role_arn",
      "endpoint",
      "sts_endpoint",
      "external_id",
      "compression",
      "log_key",
      "auto_retry_requests",
      "profile",
      "simple_aggregation",
    ],
    { net: false, secrets: [] },
  ),
  s3: plugin(
    "s3",
    "plugins/out_s3/s3.c",
    [
      "format",
      "json_date_format",
      "json_date_key",
      "total_file_size",
      "upload_chunk_size",
      "upload_timeout",
      "bucket",
      "region",
      "role_arn",
      "endpoint",
      "sts_endpoint",
      "canned_acl",
      "compression",
      "content_type",
      "store_dir",
      "store_dir_limit_size",
      "quarantine_dir_limit_size",
      "s3_key_format",
      "s3_key_format_tag_delimiters",
      "auto_retry_requests",
      "use_put_object",
      "send_content_md5",
      "preserve_data_ordering",
      "retry_exhausted_action",
      "log_key",
      "external_id",
      "static_file_path",
      "storage_class",
      "profile",
      "blob_database_file",
      "part_size",
      "file_delivery_attempt_limit",
      "part_delivery_attempt_limit",
      "upload_parts_timeout",
      "upload_part_freshness_limit",
      "authorization_endpoint_url",
      "authorization_endpoint_username",
      "authorization_endpoint_password",
      "authorization_endpoint_bearer_token",
    ],
    { net: true, secrets: ["authorization_endpoint_password", "authorization_endpoint_bearer_token"] },
  ),
  opensearch: plugin(
    "opensearch",
    "plugins/out_opensearch/opensearch.c",
    [
      "index",
      "type",
      "suppress_type_name",
      "http_user",
      "http_passwd",
      "aws_auth",
      "aws_region",
      "aws_profile",
      "aws_sts_endpoint",
      "aws_role_arn",
      "aws_external_id",
      "aws_service_name",
      "logstash_format",
      "logstash_prefix",
      "logstash_prefix_separator",
      "logstash_prefix_key",
      "logstash_dateformat",
      "time_key",
      "time_key_format",
      "time_key_nanos",
      "include_tag_key",
      "tag_key",
      "buffer_size",
      "path",
      "pipeline",
      "generate_id",
      "write_operation",
      "id_key",
      "replace_dots",
      "current_time_index",
      "trace_output",
      "trace_error",
      "compress",
    ],
    { net: true, secrets: ["http_passwd"] },
  ),
  forward: plugin(
    "forward",
    "plugins/out_forward/forward.c",
    [
      "time_as_integer",
      "retain_metadata_in_forward_mode",
      "shared_key",
      "self_hostname",
      "empty_shared_key",
      "send_options",
      "require_ack_response",
      "username",
      "password",
      "unix_path",
      "upstream",
      "tag",
      "compress",
      "fluentd_compat",
    ],
    { net: true, secrets: ["shared_key", "password"] },
  ),
} as const satisfies Record<string, OutputPluginProperties>;

export type FireLensOutputKind = keyof typeof OUTPUT_PLUGINS;

/** True when `name` is a property of the plugin, compared as Fluent Bit compares: ignoring case. */
export function isPropertyOf(plugin: OutputPluginProperties, name: string): boolean {
  return plugin.properties.has(name.toLowerCase());
}

export function isSecretPropertyOf(plugin: OutputPluginProperties, name: string): boolean {
  return plugin.secrets.has(name.toLowerCase());
}

/** The plugin's property nearest to a misspelled `name`, for a did-you-mean; undefined when none is close. */
export function nearestProperty(plugin: OutputPluginProperties, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of [...plugin.properties].sort()) {
    const distance = editDistance(wanted, candidate);
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  // Close enough to be a typo: at most a third of the name's letters differ (`Hots` -> `host`).
  if (best === undefined || best.distance > Math.max(1, Math.floor(wanted.length / 3))) return undefined;
  return best.name;
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of two neighbours counts once. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
