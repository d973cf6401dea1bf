import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  paginateListHostedZones,
  type ResourceRecordSet,
  type Route53Client,
  type RRType,
} from "@aws-sdk/client-route-53";
import { awsCall, awsCallOrUndefined } from "../../controllers/aws/errors.ts";
import { awsPages } from "../../controllers/aws/pages.ts";
import type { ChangeStatus, HostedZone, RecordChange, RecordSet, Route53Api } from "./route53-api.ts";
import { atOrBelow, recordKey } from "./route53-api.ts";

/** ListResourceRecordSets returns at most 300 record sets a page. */
const PAGE_SIZE = 300;

export class AwsRoute53Api implements Route53Api {
  private readonly route53: Route53Client;

  constructor(clients: { route53: Route53Client }) {
    this.route53 = clients.route53;
  }

  async zonesByName(name: string, signal?: AbortSignal): Promise<HostedZone[]> {
    const wanted = dnsName(name);
    const zones: HostedZone[] = [];
    let start: string | undefined = wanted;
    let startId: string | undefined;
    // Zones are listed in name order from DNSName on; the ones named `wanted` come first, then the rest of the account.
    for (;;) {
      const page = await awsCall("route53", "ListHostedZonesByName", () =>
        this.route53.send(new ListHostedZonesByNameCommand({ DNSName: start, HostedZoneId: startId }), {
          abortSignal: signal,
        }),
      );
      let past = false;
      for (const z of page.HostedZones ?? []) {
        if (dnsName(z.Name ?? "") !== wanted) {
          past = true;
          break;
        }
        zones.push({ id: zoneId(z.Id ?? ""), name: wanted, privateZone: z.Config?.PrivateZone === true });
      }
      if (past || !page.IsTruncated || page.NextDNSName === undefined) return zones;
      start = page.NextDNSName;
      startId = page.NextHostedZoneId;
    }
  }

  async zoneById(id: string, signal?: AbortSignal): Promise<HostedZone | undefined> {
    const out = await awsCallOrUndefined("route53", "GetHostedZone", () =>
      this.route53.send(new GetHostedZoneCommand({ Id: zoneId(id) }), { abortSignal: signal }),
    );
    const z = out?.HostedZone;
    if (z === undefined) return undefined;
    return {
      id: zoneId(z.Id ?? id),
      name: dnsName(z.Name ?? ""),
      privateZone: z.Config?.PrivateZone === true,
    };
  }

  async listZones(signal?: AbortSignal): Promise<HostedZone[]> {
    const zones: HostedZone[] = [];
    // Route 53 sends NextMarker only with IsTruncated: the paginator's stop on a missing marker is the same rule.
    const pages = paginateListHostedZones({ client: this.route53 }, {}, { abortSignal: signal });
    for await (const page of awsPages("route53", "ListHostedZones", pages)) {
      for (const z of page.HostedZones ?? []) {
        zones.push({
          id: zoneId(z.Id ?? ""),
          name: dnsName(z.Name ?? ""),
          privateZone: z.Config?.PrivateZone === true,
        });
      }
    }
    return zones;
  }

  async listRecordSets(zone: string, name?: string, signal?: AbortSignal): Promise<RecordSet[]> {
    const below = name === undefined ? undefined : dnsName(name);
    // Record sets are listed by name with its labels reversed, so `name` and every name below it come together,
    // starting at `name`; the first name outside that range ends the reading.
    const seen = new Map<string, RecordSet>();
    let next: { name?: string; type?: RRType; id?: string } = { name: below };
    for (;;) {
      const page = await awsCall("route53", "ListResourceRecordSets", () =>
        this.route53.send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: zone,
            StartRecordName: next.name,
            StartRecordType: next.type,
            StartRecordIdentifier: next.id,
            MaxItems: PAGE_SIZE,
          }),
          { abortSignal: signal },
        ),
      );
      let added = 0;
      let past = false;
      for (const raw of page.ResourceRecordSets ?? []) {
        const r = fromSdk(raw);
        if (below !== undefined && !atOrBelow(r.name, below)) {
          past = true;
          break;
        }
        const key = recordKey(r);
        if (!seen.has(key)) added++;
        seen.set(key, r);
      }
      if (past || !page.IsTruncated) break;
      // An emulator without StartRecordIdentifier repeats the start of a name and type: dedupe, and stop if stuck.
      if (added === 0) {
        throw new Error(
          `route53 ListResourceRecordSets: zone ${zone} paging made no progress at ${page.NextRecordName}`,
        );
      }
      next = { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier };
    }
    const records = [...seen.values()];
    return below === undefined ? records : records.filter((r) => atOrBelow(r.name, below));
  }

  async changeRecordSets(
    zone: string,
    changes: readonly RecordChange[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (changes.length === 0) return undefined;
    const out = await awsCall("route53", "ChangeResourceRecordSets", () =>
      this.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: {
            Comment: "ecs-log-operator",
            Changes: changes.map((c) => ({ Action: c.action, ResourceRecordSet: toSdk(c.record) })),
          },
        }),
        { abortSignal: signal },
      ),
    );
    return out.ChangeInfo?.Id?.replace(/^\/change\//, "");
  }

  async getChange(changeId: string, signal?: AbortSignal): Promise<ChangeStatus | undefined> {
    const out = await awsCallOrUndefined("route53", "GetChange", () =>
      this.route53.send(new GetChangeCommand({ Id: changeId }), { abortSignal: signal }),
    );
    const status = out?.ChangeInfo?.Status;
    return status === "INSYNC" || status === "PENDING" ? status : undefined;
  }
}

function zoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, "");
}

/** Route 53 names end with a dot and escape characters outside [a-z0-9-_.] as `\ooo` (octal), `*` as `\052`. */
export function dnsName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)))
    .replace(/\.$/, "")
    .toLowerCase();
}

function fromSdk(r: ResourceRecordSet): RecordSet {
  return {
    name: dnsName(r.Name ?? ""),
    type: r.Type ?? "",
    setIdentifier: r.SetIdentifier,
    weight: r.Weight,
    ttl: r.TTL,
    values: r.ResourceRecords?.map((v) => v.Value ?? ""),
    alias:
      r.AliasTarget === undefined
        ? undefined
        : {
            hostedZoneId: r.AliasTarget.HostedZoneId ?? "",
            dnsName: dnsName(r.AliasTarget.DNSName ?? ""),
            evaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth === true,
          },
    healthCheckId: r.HealthCheckId,
    otherRouting:
      r.Region !== undefined ||
      r.GeoLocation !== undefined ||
      r.Failover !== undefined ||
      r.MultiValueAnswer !== undefined ||
      r.CidrRoutingConfig !== undefined ||
      r.GeoProximityLocation !== undefined ||
      r.TrafficPolicyInstanceId !== undefined
        ? true
        : undefined,
  };
}

function toSdk(r: RecordSet): ResourceRecordSet {
  return {
    Name: r.name,
    Type: r.type as RRType,
    SetIdentifier: r.setIdentifier,
    Weight: r.weight,
    TTL: r.alias === undefined ? r.ttl : undefined,
    ResourceRecords: r.values?.map((Value) => ({ Value })),
    AliasTarget:
      r.alias === undefined
        ? undefined
        : {
            HostedZoneId: r.alias.hostedZoneId,
            DNSName: r.alias.dnsName,
            EvaluateTargetHealth: r.alias.evaluateTargetHealth,
          },
    HealthCheckId: r.healthCheckId,
  };
}
