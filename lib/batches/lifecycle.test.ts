import { describe, expect, it } from "vitest";
import { mayAct, nextState, stateName } from "@/lib/batches/lifecycle";

const owner = "0x1111111111111111111111111111111111111111";
const other = "0x2222222222222222222222222222222222222222";
const batch = { ownerAddress: owner, custodianAddress: other };

describe("lifecycle", () => {
  it("follows harvested -> in transit -> stored -> sold -> consumed", () => {
    expect(nextState("ship", 0)).toBe(1);
    expect(nextState("receive", 1)).toBe(2);
    expect(nextState("sell", 2)).toBe(3);
    expect(nextState("consume", 3)).toBe(4);
  });

  it("refuses transitions the lifecycle does not allow", () => {
    expect(nextState("consume", 0)).toBeNull();
    expect(nextState("receive", 0)).toBeNull();
    expect(nextState("ship", 3)).toBeNull();
    expect(nextState("recall", 5)).toBeNull();
    expect(nextState("inspect", 4)).toBeNull();
  });

  it("recalls from any live state and inspects without changing state", () => {
    for (const state of [0, 1, 2, 3, 4]) expect(nextState("recall", state)).toBe(5);
    expect(nextState("inspect", 2)).toBe(2);
  });

  it("lets only the right people act", () => {
    expect(mayAct("ship", { address: owner, role: "farmer" }, batch)).toBe(true);
    expect(mayAct("ship", { address: other, role: "transporter" }, batch)).toBe(false);
    expect(mayAct("receive", { address: other, role: "transporter" }, batch)).toBe(true);
    expect(mayAct("inspect", { address: owner, role: "farmer" }, batch)).toBe(false);
    expect(mayAct("recall", { address: other, role: "inspector" }, batch)).toBe(true);
    expect(mayAct("sell", { address: other, role: "admin" }, batch)).toBe(false);
  });

  it("names states", () => {
    expect(stateName(5)).toBe("recalled");
    expect(() => stateName(9)).toThrow();
  });
});
