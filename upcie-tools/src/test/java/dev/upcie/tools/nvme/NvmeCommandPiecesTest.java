package dev.upcie.tools.nvme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.CommandMatch;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.tools.UsageException;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pieces behind {@code upcie nvme read}, {@code write} and {@code perf}, on one simulated
 * machine, so that what one step writes the next can read; and the formatting and counting helpers.
 */
class NvmeCommandPiecesTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  private SimMachine machine;
  private OpenController nvme;

  @BeforeEach
  void bringUp() {
    machine = SimMachine.qemuQ35Vfio();
    nvme =
        OpenController.open(
            DeviceBackends.choose("sim", PciSelector.any().withAddress(NVME), b -> machine), null);
  }

  @AfterEach
  void shutDown() {
    nvme.close();
  }

  @Test
  void whatWriteWritesReadReadsBackOnBothNamespaces() {
    for (int nsid : new int[] {1, 2}) {
      NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), nsid);
      byte[] data = new byte[(int) (3 * ns.blockSize())];
      new SplittableRandom(nsid).nextBytes(data);

      BlockIo.write(nvme.controller(), ns, 10, data);

      assertThat(BlockIo.read(nvme.controller(), ns, 10, 3)).isEqualTo(data);
      assertThat(BlockIo.read(nvme.controller(), ns, 13, 1)).containsOnly(0);
      assertThat(BlockIo.read(nvme.controller(), ns, 11, 1))
          .isEqualTo(Arrays.copyOfRange(data, (int) ns.blockSize(), (int) (2 * ns.blockSize())));
    }
  }

  @Test
  void aLargeTransferIsSplitByTheDriver() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 1);
    byte[] data = new byte[4 << 20]; // 8 commands of MDTS (512 KiB)
    new SplittableRandom(7).nextBytes(data);

    BlockIo.write(nvme.controller(), ns, 0, data);

    assertThat(BlockIo.read(nvme.controller(), ns, 0, data.length / 512)).isEqualTo(data);
  }

  @Test
  void aRangeOutsideTheNamespaceIsRefusedAndNothingIsSent() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 1);

    assertThatThrownBy(() -> BlockIo.write(nvme.controller(), ns, 131071, new byte[1024]))
        .isInstanceOf(UsageException.class)
        .hasMessage("blocks 131071 to 131072 are outside namespace 1 (blocks 0 to 131071)");
    assertThatThrownBy(() -> BlockIo.read(nvme.controller(), ns, -1, 1))
        .isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> BlockIo.write(nvme.controller(), ns, 0, new byte[100]))
        .isInstanceOf(UsageException.class)
        .hasMessage("100 bytes of data are not whole blocks of 512 bytes");

    assertThat(nvme.controller().smartLog().hostWriteCommands()).isZero();
    assertThat(nvme.controller().smartLog().hostReadCommands()).isZero();
    assertThatThrownBy(() -> NvmeTarget.namespace(nvme.controller(), 9))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("active namespaces: [1, 2]");
  }

  @Test
  void perfVerifyFindsABlockThatDoesNotHoldItsPattern() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 1);
    PerfJob job = job(PerfJob.Mode.READ, 128 << 10, 32, true);
    PerfRun run = new PerfRun(nvme.controller(), ns, job, null);
    run.fill();
    BlockIo.write(nvme.controller(), ns, 21, new byte[512]);

    PerfResult result = run.measure();

    assertThat(result.ios()).isEqualTo(32);
    assertThat(result.verifiedBlocks()).as("the 4 MiB region, once").isEqualTo(8192);
    assertThat(result.mismatches()).isEqualTo(1);
    assertThat(result.firstBadLba()).isEqualTo(21);
  }

  @Test
  void perfVerifyPassesWhereWritesCarryThePattern() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 2);
    PerfJob job =
        new PerfJob(
            PerfJob.Mode.RANDRW, 8192, 16, 1 << 20, 0, 3000, PerfJob.RANDOM, true, false, 0);

    PerfResult result = new PerfRun(nvme.controller(), ns, job, null).run();

    assertThat(result.ios()).isEqualTo(3000);
    assertThat(result.reads()).isPositive();
    assertThat(result.writes()).isPositive();
    assertThat(result.verifiedBlocks()).isEqualTo(result.reads() * 2);
    assertThat(result.mismatches()).isZero();
    assertThat(result.firstBadLba()).isEqualTo(-1);
  }

  @Test
  void perfCountsFailedIosAndKeepsTheFirstMessage() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 1);
    ((NvmeModel) machine.model(NVME))
        .faults()
        .failNext(CommandMatch.io(NvmeOpcodes.IO_WRITE), NvmeStatus.WRITE_FAULT);

    PerfResult result =
        new PerfRun(nvme.controller(), ns, job(PerfJob.Mode.WRITE, 4096, 32, false), null).run();

    assertThat(result.ios()).isEqualTo(32);
    assertThat(result.errors()).isEqualTo(1);
    assertThat(result.bytes()).isEqualTo(31 * 4096L);
    assertThat(result.firstError()).contains("Write").contains("Write Fault");
  }

  @Test
  void perfReportsProgressWhenAsked() {
    NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), 1);
    PerfJob job =
        new PerfJob(
            PerfJob.Mode.RANDREAD, 4096, 8, 1 << 20, 1_200_000_000L, 0, 0xa5, false, false, 0);
    long[] updates = new long[2];

    PerfResult result =
        new PerfRun(
                nvme.controller(),
                ns,
                job,
                (ios, elapsed, lastSecond) -> {
                  updates[0]++;
                  updates[1] = ios;
                })
            .run();

    assertThat(updates[0]).isEqualTo(1);
    assertThat(updates[1]).isPositive().isLessThanOrEqualTo(result.ios());
    assertThat(result.elapsedNanos()).isGreaterThanOrEqualTo(1_200_000_000L);
  }

  @Test
  void theHistogramsPercentilesAreWithinItsPrecision() {
    LatencyHistogram h = new LatencyHistogram();
    for (long v = 1; v <= 100_000; v++) {
      h.record(v * 10);
    }

    assertThat(h.count()).isEqualTo(100_000);
    assertThat(h.min()).isEqualTo(10);
    assertThat(h.max()).isEqualTo(1_000_000);
    assertThat(h.mean()).isCloseTo(500_005, within(0.001));
    assertThat((double) h.percentile(50)).isCloseTo(500_000, within(500_000 * 0.016));
    assertThat((double) h.percentile(99)).isCloseTo(990_000, within(990_000 * 0.016));
    assertThat(h.percentile(100)).isEqualTo(1_000_000);
    assertThat(h.percentile(0)).isEqualTo(10);
    for (long v = 0; v < 1000; v++) {
      assertThat(LatencyHistogram.upperBound(LatencyHistogram.index(v))).isGreaterThanOrEqualTo(v);
    }
    assertThat(LatencyHistogram.index(Long.MAX_VALUE)).isLessThan(3712);
    assertThat(new LatencyHistogram().percentile(99)).isZero();
  }

  @Test
  void valuesAreFormattedAsNvmeCliFormatsThem() {
    assertThat(NvmeCliFormat.hex(0)).isEqualTo("0");
    assertThat(NvmeCliFormat.hex(0x1b36)).isEqualTo("0x1b36");
    assertThat(NvmeCliFormat.hex(7, 4)).isEqualTo("0x07");
    assertThat(NvmeCliFormat.hex(0x3f003f, 10)).isEqualTo("0x003f003f");
    assertThat(NvmeCliFormat.hex(0, 8)).isEqualTo("00000000");
    assertThat(NvmeCliFormat.usage(0, 64L << 20)).isEqualTo("  0.00   B /  67.11  MB");
    assertThat(NvmeCliFormat.usage(1_500_000_000_000L, 2_000_398_934_016L))
        .isEqualTo("  1.50  TB /   2.00  TB");
    assertThat(NvmeCliFormat.format(512, 0)).isEqualTo("512   B +  0 B");
    assertThat(NvmeCliFormat.format(4096, 8)).isEqualTo("  4 KiB +  8 B");
    assertThat(NvmeCliFormat.si(BigInteger.valueOf(3), 512_000)).isEqualTo("1.54 MB");
    assertThat(NvmeCliFormat.si(BigInteger.ZERO, 512_000)).isEqualTo("0.00 B");
    assertThat(NvmeCliFormat.featureName(7)).isEqualTo("Number of Queues");
    assertThat(NvmeCliFormat.selectName(3)).isEqualTo("Supported capabilities");
  }

  private static PerfJob job(PerfJob.Mode mode, long ioBytes, int count, boolean verify) {
    return new PerfJob(mode, ioBytes, 8, 4L << 20, 0, count, PerfJob.RANDOM, verify, false, 0);
  }
}
