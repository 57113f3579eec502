package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeOptions;
import org.junit.jupiter.api.Test;

/**
 * The layouts the guests give QEMU's controller, checked where no guest is needed: the default is
 * exactly the simulator's default controller (so host runs and {@code ci/run} test one thing), and
 * the second differs from it in MDTS, namespaces and block sizes, as the nightly matrix needs.
 */
class NvmeLayoutTest {
  @Test
  void theDefaultLayoutIsTheSimulatorsDefaultController() {
    assertThat(NvmeLayout.DEFAULT.options(NvmeOptions.DEFAULT_SERIAL))
        .isEqualTo(NvmeOptions.defaults());
    assertThat(NvmeLayout.current())
        .as("no guest script said otherwise")
        .isEqualTo(NvmeLayout.DEFAULT);
  }

  @Test
  void theSecondLayoutDiffersInMdtsNamespacesAndBlockSizes() {
    NvmeLayout second = NvmeLayout.named("mdts5-3ns");
    NvmeOptions options = second.options("s");

    assertThat(options.mdts()).isEqualTo(5).isNotEqualTo(NvmeLayout.DEFAULT.mdts());
    assertThat(options.namespaces())
        .extracting(NamespaceOptions::nsid, NamespaceOptions::blockSize)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, 4096),
            org.assertj.core.groups.Tuple.tuple(2, 512),
            org.assertj.core.groups.Tuple.tuple(3, 4096));
    assertThat(second.withBlockSize(512).nsid()).isEqualTo(2);
    assertThat(second.withBlockSize(4096).nsid()).isEqualTo(1);
    assertThat(second.inactiveNsid()).isEqualTo(4);
    assertThat(second.maxTransferBytes()).isEqualTo(128 << 10);
    assertThat(NvmeLayout.DEFAULT.inactiveNsid()).isEqualTo(3);
  }

  @Test
  void anUnknownLayoutIsRefusedNamingTheOthers() {
    assertThatThrownBy(() -> NvmeLayout.named("big"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no NVMe layout 'big' (upcie.nvme.layout); there are: default, mdts5-3ns");
  }
}
