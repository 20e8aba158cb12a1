/** What a scenario file exports, and what it gets to work with. */
import type { NodeApi } from './api.ts';
import type { ChaosCluster } from './cluster.ts';
import type { LoadGenerator } from './load.ts';
import type { ChaosNetwork } from './netns.ts';
import type { ScenarioReport } from './report.ts';

export interface ScenarioContext {
  readonly net: ChaosNetwork;
  readonly cluster: ChaosCluster;
  readonly load: LoadGenerator;
  readonly report: ScenarioReport;
  /** One API client per node, by index (the node may be down). */
  readonly apis: readonly NodeApi[];
  /** Seeded: the same seed replays the same fault schedule. */
  readonly random: () => number;
  /** The scenario's length, where it has one (soak), in seconds. */
  readonly seconds: number;
  /** Recovery bound after a fault ends (CometBFT's e2e: 20 s). */
  readonly recoveryBoundMs: number;
}

export interface Scenario {
  readonly name: string;
  /** One line: what it breaks and what must hold. */
  readonly purpose: string;
  /** Validators (equal power, one genesis), nodes 0..validators-1. */
  readonly validators: number;
  /** Full nodes after the validators (default 0). */
  readonly fullNodes?: number;
  /** Part of the short subset CI runs. */
  readonly ci: boolean;
  readonly defaultSeconds: number;
  /** The nodes' block interval when the scenario needs its own (default: --block-interval, 1000). */
  readonly blockIntervalMs?: number;
  /** Nodes the scenario starts itself (e.g. one that joins by state sync); the others start first. */
  readonly startLater?: readonly number[];
  /**
   * Runs after the nodes' data directories are made and before any node
   * starts (e.g. a key for a full node, another build to start on).
   */
  prepare?(cluster: ChaosCluster, report: ScenarioReport): void | Promise<void>;
  run(ctx: ScenarioContext): Promise<void>;
}

export { seededRandom } from '../../test/support/seeded-random.ts';
