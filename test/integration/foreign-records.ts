import { ChangeResourceRecordSetsCommand, type Route53Client } from "@aws-sdk/client-route-53";

/**
 * Records the operator must never change, made by hand in a zone: a weighted record at `name` beside the operator's
 * (set identifier `manual`) and an unrelated CNAME (`grafana.logs.internal`).
 */
export async function createForeignRecords(
  route53: Route53Client,
  zoneId: string,
  name: string,
): Promise<void> {
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: "CREATE",
            ResourceRecordSet: {
              Name: name,
              Type: "A",
              SetIdentifier: "manual",
              Weight: 3,
              TTL: 10,
              ResourceRecords: [{ Value: "192.168.7.7" }],
            },
          },
          {
            Action: "CREATE",
            ResourceRecordSet: {
              Name: "grafana.logs.internal",
              Type: "CNAME",
              TTL: 300,
              ResourceRecords: [{ Value: "grafana.example.com" }],
            },
          },
        ],
      },
    }),
  );
}
