import { describe, expect, it } from "vitest";
import { takeBack, takeBackContainer, takeBackEntries } from "./take-back.ts";
import type { TaskDefinitionJson } from "./task-definition.ts";

type Dep = { containerName: string; condition: string };
const dep = (containerName: string, condition = "START"): Dep => ({ containerName, condition });
const onRouter = (d: Dep) => d.containerName === "router";

describe("takeBack", () => {
  it("gives the reference's value where the current one is still ours, and keeps what changed since", () => {
    expect(
      takeBack({ logDriver: "awsfirelens" }, { logDriver: "awsfirelens" }, { logDriver: "awslogs" }),
    ).toEqual({
      logDriver: "awslogs",
    });
    expect(takeBack({ logDriver: "awsfirelens" }, { logDriver: "awsfirelens" }, undefined)).toBeUndefined();
    expect(takeBack({ logDriver: "splunk" }, { logDriver: "awsfirelens" }, { logDriver: "awslogs" })).toEqual(
      {
        logDriver: "splunk",
      },
    );
  });
});

describe("takeBackEntries", () => {
  const cases: [string, Dep[] | undefined, Dep[] | undefined, Dep[] | undefined, Dep[] | undefined][] = [
    // name, current, ours, reference, expected
    ["an added entry goes", [dep("db"), dep("router")], [dep("db"), dep("router")], [dep("db")], [dep("db")]],
    ["a list emptied is removed", [dep("router")], [dep("router")], undefined, undefined],
    [
      "a replaced entry comes back in its place",
      [dep("router"), dep("db")],
      [dep("router"), dep("db")],
      [dep("router", "HEALTHY"), dep("db")],
      [dep("router", "HEALTHY"), dep("db")],
    ],
    [
      "a removed entry comes back where the reference has it",
      [dep("db")],
      [dep("db")],
      [dep("router"), dep("db")],
      [dep("router"), dep("db")],
    ],
    [
      "entries the pipeline changed since stay",
      [dep("db"), dep("router", "HEALTHY")],
      [dep("db"), dep("router")],
      [dep("db")],
      [dep("db"), dep("router", "HEALTHY")],
    ],
    ["entries it does not pick stay as they are", [dep("x"), dep("router")], [dep("router")], [], [dep("x")]],
  ];
  it.each(cases)("%s", (_name, current, ours, reference, expected) => {
    expect(takeBackEntries(current, ours, reference, onRouter)).toEqual(expected);
  });
});

describe("takeBackContainer", () => {
  const td = (...names: string[]): TaskDefinitionJson => ({
    family: "f",
    containerDefinitions: names.map((name) => ({ name, image: `${name}:1` })),
  });

  it("removes a container the operator added, and puts back one a patch removed, in the reference's place", () => {
    const added = td("app", "router");
    expect(
      takeBackContainer(added, "router", { reference: td("app"), ours: td("app", "router"), footprint: {} }),
    ).toBe(true);
    expect(added.containerDefinitions.map((c) => c.name)).toEqual(["app"]);

    const removed = td("app", "db");
    takeBackContainer(removed, "router", {
      reference: td("app", "router", "db"),
      ours: td("app", "db"),
      footprint: {},
    });
    expect(removed.containerDefinitions.map((c) => c.name)).toEqual(["app", "router", "db"]);
  });

  it("leaves a container the pipeline changed since", () => {
    const changed = td("app", "router");
    changed.containerDefinitions[1]!.image = "router:2";
    expect(
      takeBackContainer(changed, "router", {
        reference: td("app"),
        ours: td("app", "router"),
        footprint: {},
      }),
    ).toBe(false);
    expect(changed.containerDefinitions.map((c) => c.image)).toEqual(["app:1", "router:2"]);
  });
});
