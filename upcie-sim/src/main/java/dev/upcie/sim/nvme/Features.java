package dev.upcie.sim.nvme;

/**
 * The controller's feature values that Set Features changes, as QEMU 7.2 keeps them ({@code
 * n->features}): none is saveable, and a reset does not restore them (QEMU does not either).
 */
final class Features {
  /** Feature identifiers QEMU 7.2 supports. */
  static final int ARBITRATION = 0x01;

  static final int POWER_MANAGEMENT = 0x02;
  static final int TEMPERATURE_THRESHOLD = 0x04;
  static final int ERROR_RECOVERY = 0x05;
  static final int VOLATILE_WRITE_CACHE = 0x06;
  static final int NUMBER_OF_QUEUES = 0x07;
  static final int INTERRUPT_COALESCING = 0x08;
  static final int INTERRUPT_VECTOR_CONFIGURATION = 0x09;
  static final int WRITE_ATOMICITY = 0x0a;
  static final int ASYNC_EVENT_CONFIGURATION = 0x0b;
  static final int TIMESTAMP = 0x0e;
  static final int HOST_BEHAVIOR_SUPPORT = 0x16;
  static final int COMMAND_SET_PROFILE = 0x19;

  /** Capabilities (Get Features select 3): changeable, and namespace-specific. */
  static final int CAP_NAMESPACE = 1 << 1;

  static final int CAP_CHANGEABLE = 1 << 2;

  int temperatureHigh = IdentifyData.TEMPERATURE_WARNING;
  int temperatureLow;
  int asyncEventConfiguration;
  boolean writeCache = true;
  final byte[] hostBehavior = new byte[512];
  private long hostTimestamp;
  private long timestampSetNanos;

  static boolean supported(int fid) {
    return switch (fid) {
      case ARBITRATION,
          POWER_MANAGEMENT,
          TEMPERATURE_THRESHOLD,
          ERROR_RECOVERY,
          VOLATILE_WRITE_CACHE,
          NUMBER_OF_QUEUES,
          INTERRUPT_COALESCING,
          INTERRUPT_VECTOR_CONFIGURATION,
          WRITE_ATOMICITY,
          ASYNC_EVENT_CONFIGURATION,
          TIMESTAMP,
          HOST_BEHAVIOR_SUPPORT,
          COMMAND_SET_PROFILE ->
          true;
      default -> false;
    };
  }

  static int capabilities(int fid) {
    return switch (fid) {
      case ERROR_RECOVERY -> CAP_CHANGEABLE | CAP_NAMESPACE;
      case TEMPERATURE_THRESHOLD,
          VOLATILE_WRITE_CACHE,
          NUMBER_OF_QUEUES,
          ASYNC_EVENT_CONFIGURATION,
          TIMESTAMP,
          HOST_BEHAVIOR_SUPPORT,
          COMMAND_SET_PROFILE ->
          CAP_CHANGEABLE;
      default -> 0;
    };
  }

  /** CC.EN sets the timestamp to 0, as QEMU's {@code nvme_start_ctrl}. */
  void startTimestamp(long nowNanos) {
    setTimestamp(0, nowNanos);
  }

  void setTimestamp(long milliseconds, long nowNanos) {
    hostTimestamp = milliseconds;
    timestampSetNanos = nowNanos;
  }

  /** The Timestamp feature: 48 bits of milliseconds, origin 1 once the host set a nonzero one. */
  long timestamp(long nowNanos) {
    long elapsed = (nowNanos - timestampSetNanos) / 1_000_000;
    long value = (hostTimestamp + elapsed) & 0xffff_ffff_ffffL;
    if (hostTimestamp != 0) {
      value |= 1L << 49;
    }
    return value;
  }
}
