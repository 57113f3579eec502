package dev.upcie.host;

import dev.upcie.errno.ErrnoException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's messages from now on, read from {@code /dev/kmsg}: what an IOMMU says about a DMA it
 * refused ({@code DMAR: [DMA Read NO_PASID] Request device [00:06.0] fault addr ...}) reaches only
 * the kernel log. Reading it needs root, or {@code kernel.dmesg_restrict = 0}.
 *
 * <pre>{@code
 * try (KernelLog log = KernelLog.fromNow()) {
 *   // ... run the device ...
 *   log.newMessages().stream().filter(m -> m.contains("DMAR")).forEach(System.out::println);
 * }
 * }</pre>
 */
public final class KernelLog implements AutoCloseable {
  private static final String KMSG = "/dev/kmsg";
  private static final int RECORD = 8192;
  // Returned by a read whose next record was overwritten.
  private static final int EPIPE = 32;

  private final NativeFd fd;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment buffer;

  private KernelLog(NativeFd fd) {
    this.fd = fd;
    this.buffer = arena.allocate(RECORD);
  }

  /**
   * A reader positioned after the last message logged so far.
   *
   * @throws ErrnoException {@code EPERM} (or {@code EACCES}) where this process may not read the
   *     kernel log: not root, and {@code kernel.dmesg_restrict} is 1
   */
  public static KernelLog fromNow() {
    KernelLog log =
        new KernelLog(Syscalls.open(KMSG, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC));
    log.newMessages();
    return log;
  }

  /** The messages logged since the last call (or since {@link #fromNow()}), oldest first. */
  public synchronized List<String> newMessages() {
    List<String> messages = new ArrayList<>();
    while (true) {
      long n;
      try {
        n = Syscalls.tryRead(fd, buffer);
      } catch (ErrnoException e) {
        if (e.errno().number() == EPIPE) {
          // Records were overwritten before we read them; the next read goes on after them.
          continue;
        }
        throw e;
      }
      if (n <= 0) {
        return messages;
      }
      String record =
          new String(
              buffer.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
              StandardCharsets.UTF_8);
      // "priority,sequence,microseconds,flags;message\n" followed by continuation lines.
      int semicolon = record.indexOf(';');
      String message = semicolon < 0 ? record : record.substring(semicolon + 1);
      int end = message.indexOf('\n');
      messages.add(end < 0 ? message : message.substring(0, end));
    }
  }

  @Override
  public synchronized void close() {
    fd.close();
    arena.close();
  }
}
