package dev.upcie.sim.nvme;

import static dev.upcie.nvme.NvmeStatus.DNR;

import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeStatus;

/**
 * Format NVM as QEMU 7.2's {@code nvme_format} does it, for the LBA formats without metadata: every
 * block is zeroed and the namespace takes the new format at once.
 */
final class Formatter {
  private final Controller c;
  private final AdminCommands admin;

  Formatter(Controller controller, AdminCommands admin) {
    this.c = controller;
    this.admin = admin;
  }

  int format() {
    int nsid = admin.cdw(NvmeCommandDescriptor.NSID);
    int dw10 = admin.cdw(40);
    int lbaf = dw10 & 0xf;
    int settings = dw10 & 0x110; // MSET (bit 4) and PIL (bit 8), kept in FLBAS and DPS
    int pi = (dw10 >>> 5) & 0x7;
    if ((c.features.hostBehavior[2] & 1) != 0) {
      lbaf |= ((dw10 >>> 12) & 0x3) << 4; // extended LBA formats enabled
    }
    if (nsid != NvmeCommandDescriptor.NSID_BROADCAST) {
      if (!AdminCommands.nsidValid(nsid)) {
        return NvmeStatus.INVALID_NAMESPACE | DNR;
      }
      Namespace ns = admin.namespace(nsid);
      if (ns == null) {
        return NvmeStatus.INVALID_FIELD | DNR;
      }
      return format(ns, lbaf, pi, settings);
    }
    for (Namespace ns : c.namespaces) {
      if (ns != null) {
        int status = format(ns, lbaf, pi, settings);
        if (status != NvmeStatus.SUCCESS) {
          return status;
        }
      }
    }
    return NvmeStatus.SUCCESS;
  }

  /** QEMU's {@code nvme_format_check}, then the format. */
  private static int format(Namespace ns, int lbaf, int pi, int settings) {
    if (lbaf > 7) {
      return NvmeStatus.INVALID_FORMAT | DNR;
    }
    int metadata = Namespace.metadataBytes(lbaf);
    if (pi != 0 && metadata < 8) {
      return NvmeStatus.INVALID_FORMAT | DNR;
    }
    if (pi > 3) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    if (metadata != 0) {
      // A known difference: QEMU formats to LBA formats with metadata; the model does not.
      return NvmeStatus.INVALID_FORMAT | DNR;
    }
    ns.store.zero(0, ns.store.size());
    ns.format(lbaf);
    ns.extended = ((settings >>> 4) & 1) != 0;
    // QEMU's nvme_format_set: FLBAS = LBAF upper bits, MSET, LBAF lower bits; DPS = PIL, PI.
    ns.identify[26] = (byte) ((lbaf >>> 4) << 5 | ((settings >>> 4) & 1) << 4 | (lbaf & 0xf));
    ns.identify[29] = (byte) (((settings >>> 8) & 1) << 3 | pi);
    return NvmeStatus.SUCCESS;
  }
}
