package dev.upcie.nvme;

import java.util.Map;

/**
 * NVMe completion status values (NVMe base specification 1.4, section 4.6.1), as the 15-bit status
 * field of a completion entry: status code in bits 0-7, status code type in bits 8-10, More in bit
 * 13 and Do Not Retry in bit 14. Constants carry type and code only; {@link #DNR} is or-ed in.
 *
 * <pre>{@code
 * int status = Short.toUnsignedInt(cqe.get(JAVA_SHORT, NvmeCompletionDescriptor.STATUS)) >>> 1;
 * if (NvmeStatus.code(status) == NvmeStatus.LBA_OUT_OF_RANGE) { ... }
 * System.out.println(NvmeStatus.describe(status)); // "LBA Out of Range (0x0080), DNR"
 * }</pre>
 */
public final class NvmeStatus {
  /** Successful Completion. */
  public static final int SUCCESS = 0x0000;

  /** Invalid Command Opcode. */
  public static final int INVALID_OPCODE = 0x0001;

  /** Invalid Field in Command. */
  public static final int INVALID_FIELD = 0x0002;

  /** Data Transfer Error. */
  public static final int DATA_TRANSFER_ERROR = 0x0004;

  /** Internal Error. */
  public static final int INTERNAL_ERROR = 0x0006;

  /** Command Abort Requested. */
  public static final int ABORT_REQUESTED = 0x0007;

  /** Command Aborted due to SQ Deletion. */
  public static final int ABORTED_SQ_DELETION = 0x0008;

  /** Invalid Namespace or Format. */
  public static final int INVALID_NAMESPACE = 0x000b;

  /** Command Sequence Error. */
  public static final int COMMAND_SEQUENCE_ERROR = 0x000c;

  /** SGL Segment Descriptor Invalid. */
  public static final int INVALID_SGL_SEGMENT_DESCRIPTOR = 0x000d;

  /** Invalid Number of SGL Descriptors. */
  public static final int INVALID_SGL_DESCRIPTOR_COUNT = 0x000e;

  /** Data SGL Length Invalid. */
  public static final int INVALID_DATA_SGL_LENGTH = 0x000f;

  /** SGL Descriptor Type Invalid. */
  public static final int INVALID_SGL_DESCRIPTOR_TYPE = 0x0011;

  /** Invalid Use of Controller Memory Buffer. */
  public static final int INVALID_USE_OF_CMB = 0x0012;

  /** PRP Offset Invalid. */
  public static final int INVALID_PRP_OFFSET = 0x0013;

  /** I/O Command Set Combination Rejected. */
  public static final int COMMAND_SET_COMBINATION_REJECTED = 0x002b;

  /** Invalid I/O Command Set. */
  public static final int INVALID_COMMAND_SET = 0x002c;

  /** LBA Out of Range. */
  public static final int LBA_OUT_OF_RANGE = 0x0080;

  /** Namespace Not Ready. */
  public static final int NAMESPACE_NOT_READY = 0x0082;

  /** Format In Progress. */
  public static final int FORMAT_IN_PROGRESS = 0x0084;

  /** Completion Queue Invalid. */
  public static final int INVALID_CQ = 0x0100;

  /** Invalid Queue Identifier. */
  public static final int INVALID_QUEUE_ID = 0x0101;

  /** Invalid Queue Size. */
  public static final int INVALID_QUEUE_SIZE = 0x0102;

  /** Asynchronous Event Request Limit Exceeded. */
  public static final int AER_LIMIT_EXCEEDED = 0x0105;

  /** Invalid Interrupt Vector. */
  public static final int INVALID_INTERRUPT_VECTOR = 0x0108;

  /** Invalid Log Page. */
  public static final int INVALID_LOG_PAGE = 0x0109;

  /** Invalid Format. */
  public static final int INVALID_FORMAT = 0x010a;

  /** Invalid Queue Deletion: the completion queue still has submission queues. */
  public static final int INVALID_QUEUE_DELETION = 0x010c;

  /** Feature Identifier Not Saveable. */
  public static final int FEATURE_NOT_SAVEABLE = 0x010d;

  /** Feature Not Changeable. */
  public static final int FEATURE_NOT_CHANGEABLE = 0x010e;

  /** Feature Not Namespace Specific. */
  public static final int FEATURE_NOT_NAMESPACE_SPECIFIC = 0x010f;

  /** Controller List Invalid. */
  public static final int CONTROLLER_LIST_INVALID = 0x011c;

  /** Invalid Controller Identifier. */
  public static final int INVALID_CONTROLLER_ID = 0x011f;

  /** Invalid Number of Controller Resources. */
  public static final int INVALID_NUMBER_OF_RESOURCES = 0x0121;

  /** Invalid Resource Identifier. */
  public static final int INVALID_RESOURCE_ID = 0x0122;

  /** Invalid Protection Information. */
  public static final int INVALID_PROTECTION_INFORMATION = 0x0181;

  /** Command Size Limit Exceeded. */
  public static final int COMMAND_SIZE_LIMIT_EXCEEDED = 0x0183;

  /** Write Fault. */
  public static final int WRITE_FAULT = 0x0280;

  /** Unrecovered Read Error. */
  public static final int UNRECOVERED_READ_ERROR = 0x0281;

  /** Compare Failure. */
  public static final int COMPARE_FAILURE = 0x0285;

  /** Deallocated or Unwritten Logical Block. */
  public static final int DEALLOCATED_OR_UNWRITTEN = 0x0287;

  /** More: more status information is in the Error Information log page. */
  public static final int MORE = 0x2000;

  /** Do Not Retry: the same command would fail again. */
  public static final int DNR = 0x4000;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(SUCCESS, "Successful Completion"),
          Map.entry(INVALID_OPCODE, "Invalid Command Opcode"),
          Map.entry(INVALID_FIELD, "Invalid Field in Command"),
          Map.entry(DATA_TRANSFER_ERROR, "Data Transfer Error"),
          Map.entry(INTERNAL_ERROR, "Internal Error"),
          Map.entry(ABORT_REQUESTED, "Command Abort Requested"),
          Map.entry(ABORTED_SQ_DELETION, "Command Aborted due to SQ Deletion"),
          Map.entry(INVALID_NAMESPACE, "Invalid Namespace or Format"),
          Map.entry(COMMAND_SEQUENCE_ERROR, "Command Sequence Error"),
          Map.entry(INVALID_SGL_SEGMENT_DESCRIPTOR, "SGL Segment Descriptor Invalid"),
          Map.entry(INVALID_SGL_DESCRIPTOR_COUNT, "Invalid Number of SGL Descriptors"),
          Map.entry(INVALID_DATA_SGL_LENGTH, "Data SGL Length Invalid"),
          Map.entry(INVALID_SGL_DESCRIPTOR_TYPE, "SGL Descriptor Type Invalid"),
          Map.entry(INVALID_USE_OF_CMB, "Invalid Use of Controller Memory Buffer"),
          Map.entry(INVALID_PRP_OFFSET, "PRP Offset Invalid"),
          Map.entry(COMMAND_SET_COMBINATION_REJECTED, "I/O Command Set Combination Rejected"),
          Map.entry(INVALID_COMMAND_SET, "Invalid I/O Command Set"),
          Map.entry(LBA_OUT_OF_RANGE, "LBA Out of Range"),
          Map.entry(NAMESPACE_NOT_READY, "Namespace Not Ready"),
          Map.entry(FORMAT_IN_PROGRESS, "Format In Progress"),
          Map.entry(INVALID_CQ, "Completion Queue Invalid"),
          Map.entry(INVALID_QUEUE_ID, "Invalid Queue Identifier"),
          Map.entry(INVALID_QUEUE_SIZE, "Invalid Queue Size"),
          Map.entry(AER_LIMIT_EXCEEDED, "Asynchronous Event Request Limit Exceeded"),
          Map.entry(INVALID_INTERRUPT_VECTOR, "Invalid Interrupt Vector"),
          Map.entry(INVALID_LOG_PAGE, "Invalid Log Page"),
          Map.entry(INVALID_FORMAT, "Invalid Format"),
          Map.entry(INVALID_QUEUE_DELETION, "Invalid Queue Deletion"),
          Map.entry(FEATURE_NOT_SAVEABLE, "Feature Identifier Not Saveable"),
          Map.entry(FEATURE_NOT_CHANGEABLE, "Feature Not Changeable"),
          Map.entry(FEATURE_NOT_NAMESPACE_SPECIFIC, "Feature Not Namespace Specific"),
          Map.entry(CONTROLLER_LIST_INVALID, "Controller List Invalid"),
          Map.entry(INVALID_CONTROLLER_ID, "Invalid Controller Identifier"),
          Map.entry(INVALID_NUMBER_OF_RESOURCES, "Invalid Number of Controller Resources"),
          Map.entry(INVALID_RESOURCE_ID, "Invalid Resource Identifier"),
          Map.entry(INVALID_PROTECTION_INFORMATION, "Invalid Protection Information"),
          Map.entry(COMMAND_SIZE_LIMIT_EXCEEDED, "Command Size Limit Exceeded"),
          Map.entry(WRITE_FAULT, "Write Fault"),
          Map.entry(UNRECOVERED_READ_ERROR, "Unrecovered Read Error"),
          Map.entry(COMPARE_FAILURE, "Compare Failure"),
          Map.entry(DEALLOCATED_OR_UNWRITTEN, "Deallocated or Unwritten Logical Block"));

  private NvmeStatus() {}

  /** The status code type and code of {@code status}, without More and Do Not Retry. */
  public static int code(int status) {
    return status & 0x7ff;
  }

  /** The status code type: 0 generic, 1 command specific, 2 media and data integrity errors. */
  public static int type(int status) {
    return (status >>> 8) & 0x7;
  }

  /** True if Do Not Retry is set. */
  public static boolean doNotRetry(int status) {
    return (status & DNR) != 0;
  }

  /** The specification's name for {@code status}'s code, or {@code "Unknown Status"}. */
  public static String name(int status) {
    return NAMES.getOrDefault(code(status), "Unknown Status");
  }

  /** The name, the code in hexadecimal and the flags: {@code "LBA Out of Range (0x0080), DNR"}. */
  public static String describe(int status) {
    StringBuilder text =
        new StringBuilder(name(status)).append(String.format(" (0x%04x)", code(status)));
    if ((status & MORE) != 0) {
      text.append(", More");
    }
    if (doNotRetry(status)) {
      text.append(", DNR");
    }
    return text.toString();
  }
}
