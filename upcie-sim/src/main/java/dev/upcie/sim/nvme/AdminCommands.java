package dev.upcie.sim.nvme;

import static dev.upcie.nvme.NvmeStatus.DNR;

import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The admin command set as QEMU 7.2's {@code nvme_admin_cmd} executes it: the same checks in the
 * same order, the same statuses, the same data. Runs under the controller's lock.
 */
final class AdminCommands {
  private static final int NSID_BROADCAST = NvmeCommandDescriptor.NSID_BROADCAST;

  private final Controller c;
  private final LogPages logPages;
  private final Formatter formatter;

  AdminCommands(Controller controller) {
    this.c = controller;
    this.logPages = new LogPages(controller, this);
    this.formatter = new Formatter(controller, this);
  }

  int execute(SubmissionQueue sq, int cid) {
    int opcode = Byte.toUnsignedInt(c.command.get(ValueLayout.JAVA_BYTE, 0));
    if (!supported(opcode)) {
      return NvmeStatus.INVALID_OPCODE | DNR;
    }
    int flags = Byte.toUnsignedInt(c.command.get(ValueLayout.JAVA_BYTE, 1));
    if ((flags >>> 6) != 0) {
      return NvmeStatus.INVALID_FIELD | DNR; // no SGLs for admin commands over PCIe
    }
    if ((flags & 0x3) != 0) {
      return NvmeStatus.INVALID_FIELD; // fused
    }
    return switch (opcode) {
      case NvmeOpcodes.ADMIN_DELETE_SQ -> deleteSubmissionQueue();
      case NvmeOpcodes.ADMIN_CREATE_SQ -> createSubmissionQueue();
      case NvmeOpcodes.ADMIN_GET_LOG_PAGE -> logPages.get();
      case NvmeOpcodes.ADMIN_DELETE_CQ -> deleteCompletionQueue();
      case NvmeOpcodes.ADMIN_CREATE_CQ -> createCompletionQueue();
      case NvmeOpcodes.ADMIN_IDENTIFY -> identify();
      case NvmeOpcodes.ADMIN_ABORT -> abort();
      case NvmeOpcodes.ADMIN_SET_FEATURES -> setFeatures();
      case NvmeOpcodes.ADMIN_GET_FEATURES -> getFeatures();
      case NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST ->
          c.requestEvent(cid) ? Controller.NO_COMPLETION : NvmeStatus.AER_LIMIT_EXCEEDED;
      case NvmeOpcodes.ADMIN_NS_ATTACHMENT -> namespaceAttachment();
      case NvmeOpcodes.ADMIN_VIRTUALIZATION_MANAGEMENT -> virtualizationManagement();
      case NvmeOpcodes.ADMIN_DOORBELL_BUFFER_CONFIG -> doorbellBufferConfig();
      case NvmeOpcodes.ADMIN_FORMAT_NVM -> formatter.format();
      default -> NvmeStatus.INVALID_OPCODE | DNR;
    };
  }

  /** QEMU's {@code nvme_cse_acs}: the admin commands Commands Supported and Effects lists. */
  static boolean supported(int opcode) {
    return switch (opcode) {
      case NvmeOpcodes.ADMIN_DELETE_SQ,
          NvmeOpcodes.ADMIN_CREATE_SQ,
          NvmeOpcodes.ADMIN_GET_LOG_PAGE,
          NvmeOpcodes.ADMIN_DELETE_CQ,
          NvmeOpcodes.ADMIN_CREATE_CQ,
          NvmeOpcodes.ADMIN_IDENTIFY,
          NvmeOpcodes.ADMIN_ABORT,
          NvmeOpcodes.ADMIN_SET_FEATURES,
          NvmeOpcodes.ADMIN_GET_FEATURES,
          NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST,
          NvmeOpcodes.ADMIN_NS_ATTACHMENT,
          NvmeOpcodes.ADMIN_VIRTUALIZATION_MANAGEMENT,
          NvmeOpcodes.ADMIN_DOORBELL_BUFFER_CONFIG,
          NvmeOpcodes.ADMIN_FORMAT_NVM ->
          true;
      default -> false;
    };
  }

  int cdw(int offset) {
    return c.command.get(ValueLayout.JAVA_INT, offset);
  }

  int nsid() {
    return cdw(NvmeCommandDescriptor.NSID);
  }

  long prp1() {
    return c.command.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1);
  }

  /** QEMU's {@code nvme_nsid_valid}: 1 to 256, or the broadcast value. */
  static boolean nsidValid(int nsid) {
    return nsid == NSID_BROADCAST
        || (nsid != 0 && Integer.compareUnsigned(nsid, IdentifyData.MAX_NAMESPACES) <= 0);
  }

  Namespace namespace(int nsid) {
    return nsid > 0 && nsid <= IdentifyData.MAX_NAMESPACES ? c.namespaces[nsid] : null;
  }

  /** QEMU's {@code nvme_c2h}: maps the data pointer and copies {@code length} bytes to it. */
  int toHost(MemorySegment source, long length) {
    int status = mapData(length);
    if (status == NvmeStatus.SUCCESS) {
      c.data.toHost(c.dma(), source, length);
    }
    return status;
  }

  /** QEMU's {@code nvme_h2c}. */
  int fromHost(MemorySegment destination, long length) {
    int status = mapData(length);
    if (status == NvmeStatus.SUCCESS) {
      c.data.fromHost(c.dma(), destination, length);
    }
    return status;
  }

  int toHost(byte[] source, int offset, int length) {
    MemorySegment.copy(source, offset, c.scratch, ValueLayout.JAVA_BYTE, 0, length);
    return toHost(c.scratch, length);
  }

  private int mapData(long length) {
    long prp2 = c.command.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP2);
    return c.data.mapPrp(c.dma(), prp1(), prp2, length, c.pageSize);
  }

  /** QEMU's {@code nvme_check_mdts}. */
  int checkMdts(long length) {
    int mdts = c.options.mdts();
    return mdts != 0 && length > ((long) c.pageSize << mdts)
        ? NvmeStatus.INVALID_FIELD | DNR
        : NvmeStatus.SUCCESS;
  }

  // ---- Queues ----

  private int createCompletionQueue() {
    int cqid = cdw(40) & 0xffff;
    int qsize = cdw(40) >>> 16;
    int flags = cdw(44) & 0xffff;
    int vector = cdw(44) >>> 16;
    long address = prp1();
    if (cqid == 0 || cqid > c.options.maxIoQueuePairs() || c.cqs[cqid] != null) {
      return NvmeStatus.INVALID_QUEUE_ID | DNR;
    }
    if (qsize == 0 || qsize > NvmeRegisters.CAP_MQES.get(NvmeModel.QEMU_CAP)) {
      return NvmeStatus.INVALID_QUEUE_SIZE | DNR;
    }
    if ((address & (c.pageSize - 1)) != 0) {
      return NvmeStatus.INVALID_PRP_OFFSET | DNR;
    }
    if (!c.context.interrupts().msixEnabled() && vector != 0) {
      return NvmeStatus.INVALID_INTERRUPT_VECTOR | DNR;
    }
    if (vector >= c.options.msixQueueSize()) {
      return NvmeStatus.INVALID_INTERRUPT_VECTOR | DNR;
    }
    if ((flags & 0x1) == 0) {
      return NvmeStatus.INVALID_FIELD | DNR; // not physically contiguous
    }
    c.create(new CompletionQueue(cqid, address, qsize + 1, (flags & 0x2) != 0, vector));
    c.queuesCreated = true;
    return NvmeStatus.SUCCESS;
  }

  private int createSubmissionQueue() {
    int sqid = cdw(40) & 0xffff;
    int qsize = cdw(40) >>> 16;
    int flags = cdw(44) & 0xffff;
    int cqid = cdw(44) >>> 16;
    long address = prp1();
    if (cqid == 0 || cqid > c.options.maxIoQueuePairs() || c.cqs[cqid] == null) {
      return NvmeStatus.INVALID_CQ | DNR;
    }
    if (sqid == 0 || sqid > c.options.maxIoQueuePairs() || c.sqs[sqid] != null) {
      return NvmeStatus.INVALID_QUEUE_ID | DNR;
    }
    if (qsize == 0 || qsize > NvmeRegisters.CAP_MQES.get(NvmeModel.QEMU_CAP)) {
      return NvmeStatus.INVALID_QUEUE_SIZE | DNR;
    }
    if ((address & (c.pageSize - 1)) != 0) {
      return NvmeStatus.INVALID_PRP_OFFSET | DNR;
    }
    if ((flags & 0x1) == 0) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    c.attach(new SubmissionQueue(sqid, address, qsize + 1, c.cqs[cqid]));
    return NvmeStatus.SUCCESS;
  }

  private int deleteSubmissionQueue() {
    int qid = cdw(40) & 0xffff;
    if (qid == 0 || qid > c.options.maxIoQueuePairs() || c.sqs[qid] == null) {
      return NvmeStatus.INVALID_QUEUE_ID | DNR;
    }
    c.delete(c.sqs[qid]);
    return NvmeStatus.SUCCESS;
  }

  private int deleteCompletionQueue() {
    int qid = cdw(40) & 0xffff;
    if (qid == 0 || qid > c.options.maxIoQueuePairs() || c.cqs[qid] == null) {
      return NvmeStatus.INVALID_CQ | DNR;
    }
    if (c.cqs[qid].attachedQueues > 0) {
      return NvmeStatus.INVALID_QUEUE_DELETION; // QEMU sets no DNR here
    }
    c.delete(c.cqs[qid]);
    return NvmeStatus.SUCCESS;
  }

  // ---- Identify (QEMU's nvme_identify) ----

  private int identify() {
    int cns = cdw(40) & 0xff;
    int csi = cdw(44) >>> 24;
    int nsid = nsid();
    return switch (cns) {
      case 0x00, 0x11 -> identifyNamespace(nsid);
      case 0x01 -> toHost(c.identifyController, 0, IdentifyData.SIZE);
      case 0x02, 0x10 -> namespaceList(nsid, -1);
      case 0x03 -> descriptors(nsid);
      case 0x05, 0x1b -> identifyNamespaceForCommandSet(nsid, csi);
      case 0x06 ->
          csi == 0
              ? toHost(IdentifyData.nvmController(c.dmrsl()), 0, IdentifyData.SIZE)
              : csi == 2 ? empty() : NvmeStatus.INVALID_FIELD | DNR;
      case 0x07, 0x1a -> namespaceList(nsid, csi);
      case 0x12, 0x13 -> NvmeStatus.INVALID_FIELD | DNR; // controller lists need a subsystem
      case 0x14 ->
          toHost(IdentifyData.primaryControllerCapabilities(c.options), 0, IdentifyData.SIZE);
      case 0x15, 0x1c -> cns == 0x15 ? empty() : commandSets();
      default -> NvmeStatus.INVALID_FIELD | DNR;
    };
  }

  /** Identify Namespace (CNS 00h and 11h): an inactive namespace reads as zeros. */
  private int identifyNamespace(int nsid) {
    if (!nsidValid(nsid) || nsid == NSID_BROADCAST) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    Namespace ns = namespace(nsid);
    return ns == null ? empty() : toHost(ns.identify, 0, IdentifyData.SIZE);
  }

  /**
   * I/O Command Set specific Identify Namespace (CNS 05h and 1bh): for the NVM command set all
   * zeros with QEMU's formats (no protection information); any other set is an invalid field.
   */
  private int identifyNamespaceForCommandSet(int nsid, int csi) {
    if (!nsidValid(nsid) || nsid == NSID_BROADCAST) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    if (namespace(nsid) == null || csi == 0) {
      return empty();
    }
    return NvmeStatus.INVALID_FIELD | DNR;
  }

  private int empty() {
    c.scratch.fill((byte) 0);
    return toHost(c.scratch, IdentifyData.SIZE);
  }

  /** Active namespace list (CNS 02h; with {@code csi} >= 0, CNS 07h for that command set). */
  private int namespaceList(int minNsid, int csi) {
    if (Integer.compareUnsigned(minNsid, NSID_BROADCAST - 1) >= 0) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    if (csi >= 0 && csi != 0 && csi != 2) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    c.scratch.fill((byte) 0);
    int j = 0;
    for (int i = 1; i <= IdentifyData.MAX_NAMESPACES && j < 1024; i++) {
      Namespace ns = c.namespaces[i];
      if (ns == null || Integer.compareUnsigned(i, minNsid) <= 0 || (csi >= 0 && csi != 0)) {
        continue;
      }
      c.scratch.setAtIndex(ValueLayout.JAVA_INT, j++, i);
    }
    return toHost(c.scratch, IdentifyData.SIZE);
  }

  private int descriptors(int nsid) {
    if (!nsidValid(nsid) || nsid == NSID_BROADCAST) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    if (namespace(nsid) == null) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    return toHost(IdentifyData.descriptors(), 0, IdentifyData.SIZE);
  }

  private int commandSets() {
    c.scratch.fill((byte) 0);
    c.scratch.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x5); // NVM and zoned
    return toHost(c.scratch, IdentifyData.SIZE);
  }

  // ---- Abort, attachment, virtualization, doorbell buffer ----

  private int abort() {
    int sqid = cdw(40) & 0xffff;
    c.result = 1; // the command was not aborted
    if (sqid > c.options.maxIoQueuePairs() || c.sqs[sqid] == null) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    return NvmeStatus.SUCCESS;
  }

  private int namespaceAttachment() {
    if (!nsidValid(nsid())) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    return NvmeStatus.INVALID_FIELD | DNR; // no subsystem: no namespace can be attached
  }

  /**
   * QEMU's {@code nvme_virt_mngmt} on a controller without SR-IOV: controller 0 is the primary, it
   * has no flexible resources (allocating none of them succeeds), and there are no secondaries.
   */
  private int virtualizationManagement() {
    int action = cdw(40) & 0xf;
    int resourceType = (cdw(40) >>> 8) & 0x7;
    int controller = cdw(40) >>> 16;
    int resources = cdw(44) & 0xffff;
    if (resourceType != 0 && resourceType != 1) {
      return NvmeStatus.INVALID_RESOURCE_ID | DNR;
    }
    return switch (action) {
      case 0x1 -> { // Primary Controller Flexible Allocation
        if (controller != 0) {
          yield NvmeStatus.INVALID_CONTROLLER_ID | DNR;
        }
        if (resources > 0) {
          yield NvmeStatus.INVALID_NUMBER_OF_RESOURCES | DNR;
        }
        c.result = 0;
        yield NvmeStatus.SUCCESS;
      }
      // Secondary Controller Offline, Assign, Online: no secondary controller has that identifier.
      case 0x7, 0x8, 0x9 -> NvmeStatus.INVALID_CONTROLLER_ID | DNR;
      default -> NvmeStatus.INVALID_FIELD | DNR;
    };
  }

  private int doorbellBufferConfig() {
    long doorbells = prp1();
    long eventIndexes = c.command.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP2);
    if ((doorbells & (c.pageSize - 1)) != 0 || (eventIndexes & (c.pageSize - 1)) != 0) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    c.shadowDoorbells(doorbells, eventIndexes);
    return NvmeStatus.SUCCESS;
  }

  // ---- Features (QEMU's nvme_get_feature and nvme_set_feature) ----

  private int getFeatures() {
    int dw10 = cdw(40);
    int dw11 = cdw(44);
    int nsid = nsid();
    int fid = dw10 & 0xff;
    int select = (dw10 >>> 8) & 0x7;
    Features f = c.features;
    if (!Features.supported(fid)) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    if ((Features.capabilities(fid) & Features.CAP_NAMESPACE) != 0) {
      if (!nsidValid(nsid) || nsid == NSID_BROADCAST) {
        return NvmeStatus.INVALID_NAMESPACE | DNR;
      }
      if (namespace(nsid) == null) {
        return NvmeStatus.INVALID_FIELD | DNR;
      }
    }
    if (select == 3) {
      c.result = Features.capabilities(fid);
      return NvmeStatus.SUCCESS;
    }
    if (select != 1 && select != 2) {
      switch (fid) {
        case Features.TEMPERATURE_THRESHOLD -> {
          c.result = 0;
          if (((dw11 >>> 16) & 0xf) != 0) {
            return NvmeStatus.SUCCESS;
          }
          int threshold = (dw11 >>> 20) & 0x3;
          if (threshold > 1) {
            return NvmeStatus.INVALID_FIELD | DNR;
          }
          c.result = threshold == 0 ? f.temperatureHigh : f.temperatureLow;
          return NvmeStatus.SUCCESS;
        }
        case Features.ERROR_RECOVERY -> {
          c.result = namespace(nsid).errorRecovery;
          return NvmeStatus.SUCCESS;
        }
        case Features.VOLATILE_WRITE_CACHE -> {
          boolean any = false;
          for (Namespace ns : c.namespaces) {
            any |= ns != null;
          }
          c.result = any && f.writeCache ? 1 : 0;
          return NvmeStatus.SUCCESS;
        }
        case Features.ASYNC_EVENT_CONFIGURATION -> {
          c.result = f.asyncEventConfiguration;
          return NvmeStatus.SUCCESS;
        }
        case Features.TIMESTAMP -> {
          c.scratch.set(ValueLayout.JAVA_LONG, 0, f.timestamp(c.clock()));
          return toHost(c.scratch, 8);
        }
        case Features.HOST_BEHAVIOR_SUPPORT -> {
          return toHost(f.hostBehavior, 0, f.hostBehavior.length);
        }
        default -> {}
      }
    }
    // Defaults (and saved values, of which QEMU has none).
    switch (fid) {
      case Features.TEMPERATURE_THRESHOLD -> {
        boolean composite = ((dw11 >>> 16) & 0xf) == 0;
        c.result = composite && ((dw11 >>> 20) & 0x3) == 0 ? IdentifyData.TEMPERATURE_WARNING : 0;
      }
      case Features.NUMBER_OF_QUEUES -> {
        int n = c.options.maxIoQueuePairs() - 1;
        c.result = n | n << 16;
      }
      case Features.INTERRUPT_VECTOR_CONFIGURATION -> {
        int vector = dw11 & 0xffff;
        if (vector >= c.options.maxIoQueuePairs() + 1) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        c.result = vector | (vector == 0 ? 1 << 16 : 0); // the admin queue's: no coalescing
      }
      case Features.ARBITRATION -> c.result = 0x7; // no arbitration burst limit
      default -> c.result = 0;
    }
    return NvmeStatus.SUCCESS;
  }

  private int setFeatures() {
    int dw10 = cdw(40);
    int dw11 = cdw(44);
    int nsid = nsid();
    int fid = dw10 & 0xff;
    boolean save = (dw10 >>> 31) != 0;
    Features f = c.features;
    if (save) {
      return NvmeStatus.FEATURE_NOT_SAVEABLE | DNR;
    }
    if (!Features.supported(fid)) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    Namespace ns = null;
    if ((Features.capabilities(fid) & Features.CAP_NAMESPACE) != 0) {
      if (nsid != NSID_BROADCAST) {
        if (!nsidValid(nsid)) {
          return NvmeStatus.INVALID_NAMESPACE | DNR;
        }
        ns = namespace(nsid);
        if (ns == null) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
      }
    } else if (nsid != 0 && nsid != NSID_BROADCAST) {
      if (!nsidValid(nsid)) {
        return NvmeStatus.INVALID_NAMESPACE | DNR;
      }
      return NvmeStatus.FEATURE_NOT_NAMESPACE_SPECIFIC | DNR;
    }
    if ((Features.capabilities(fid) & Features.CAP_CHANGEABLE) == 0) {
      return NvmeStatus.FEATURE_NOT_CHANGEABLE | DNR;
    }
    switch (fid) {
      case Features.TEMPERATURE_THRESHOLD -> {
        if (((dw11 >>> 16) & 0xf) != 0) {
          break;
        }
        switch ((dw11 >>> 20) & 0x3) {
          case 0 -> f.temperatureHigh = dw11 & 0xffff;
          case 1 -> f.temperatureLow = dw11 & 0xffff;
          default -> {
            return NvmeStatus.INVALID_FIELD | DNR;
          }
        }
        if (IdentifyData.TEMPERATURE >= f.temperatureHigh
            || IdentifyData.TEMPERATURE <= f.temperatureLow) {
          // QEMU's nvme_smart_event: only if the host asked for temperature events.
          if ((f.asyncEventConfiguration & 0x2) != 0) {
            c.event(
                Controller.Events.SMART,
                Controller.Events.TEMPERATURE_THRESHOLD,
                Controller.Events.LOG_SMART);
          }
        }
      }
      case Features.ERROR_RECOVERY -> {
        // QEMU keeps it only for namespaces with DULBE, which all of its namespaces have.
        if (ns == null) {
          for (Namespace each : c.namespaces) {
            if (each != null) {
              each.errorRecovery = dw11;
            }
          }
        } else {
          ns.errorRecovery = dw11;
        }
      }
      case Features.VOLATILE_WRITE_CACHE -> {
        if ((dw11 & 1) == 0 && f.writeCache) {
          for (Namespace each : c.namespaces) {
            if (each != null) {
              each.store.flush();
            }
          }
        }
        f.writeCache = (dw11 & 1) != 0;
      }
      case Features.NUMBER_OF_QUEUES -> {
        if (c.queuesCreated) {
          return NvmeStatus.COMMAND_SEQUENCE_ERROR | DNR;
        }
        if ((dw11 & 0xffff) == 0xffff || (dw11 >>> 16) == 0xffff) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        int n = c.options.maxIoQueuePairs() - 1;
        c.result = n | n << 16;
      }
      case Features.ASYNC_EVENT_CONFIGURATION -> f.asyncEventConfiguration = dw11;
      case Features.TIMESTAMP -> {
        int status = fromHost(c.scratch, 8);
        if (status != NvmeStatus.SUCCESS) {
          return status;
        }
        f.setTimestamp(c.scratch.get(ValueLayout.JAVA_LONG, 0), c.clock());
      }
      case Features.HOST_BEHAVIOR_SUPPORT -> {
        int status = fromHost(c.scratch, f.hostBehavior.length);
        if (status != NvmeStatus.SUCCESS) {
          return status;
        }
        MemorySegment.copy(
            c.scratch, ValueLayout.JAVA_BYTE, 0, f.hostBehavior, 0, f.hostBehavior.length);
      }
      case Features.COMMAND_SET_PROFILE -> {
        if ((dw11 & 0x1ff) != 0) {
          return NvmeStatus.COMMAND_SET_COMBINATION_REJECTED | DNR;
        }
      }
      default -> {
        return NvmeStatus.FEATURE_NOT_CHANGEABLE | DNR;
      }
    }
    return NvmeStatus.SUCCESS;
  }
}
