import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { cropBatchAbi, cropBatchBytecode } from "@/lib/chain/crop-batch-abi";
import { ARTIFACT_PATH, type CompileResult, type CropBatchArtifact, compileCropBatch } from "./compile";

const STALE = "stale: run `npx tsx contracts/compile.ts` after editing contracts/CropBatch.sol";

describe("committed CropBatch artifacts", () => {
  let fresh: CompileResult;
  let committed: CropBatchArtifact;

  beforeAll(() => {
    fresh = compileCropBatch();
    committed = JSON.parse(readFileSync(ARTIFACT_PATH, "utf8")) as CropBatchArtifact;
  });

  it("compiles without warnings", () => {
    expect(fresh.warnings).toEqual([]);
  });

  it("artifact JSON matches a fresh compile", () => {
    expect(committed.sourceHash, STALE).toBe(fresh.artifact.sourceHash);
    expect(committed.solcVersion, STALE).toBe(fresh.artifact.solcVersion);
    expect(committed.settings, STALE).toEqual(fresh.artifact.settings);
    expect(committed.abi, STALE).toEqual(fresh.artifact.abi);
    expect(committed.bytecode, STALE).toBe(fresh.artifact.bytecode);
    expect(committed.deployedBytecode, STALE).toBe(fresh.artifact.deployedBytecode);
  });

  it("generated lib/chain/crop-batch-abi.ts matches a fresh compile", () => {
    expect(cropBatchAbi, STALE).toEqual(fresh.artifact.abi);
    expect(cropBatchBytecode, STALE).toBe(fresh.artifact.bytecode);
  });

  it("runtime code fits EIP-170 (24,576 bytes)", () => {
    expect((fresh.artifact.deployedBytecode.length - 2) / 2).toBeLessThanOrEqual(24_576);
  });
});
