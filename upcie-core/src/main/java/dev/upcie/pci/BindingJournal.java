package dev.upcie.pci;

import dev.upcie.host.Host;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * What a function was bound to before uPCIe moved it, written down (and synced) before the first
 * sysfs write, so that a process that dies mid-test (a {@code kill -9}, a crashed JVM) leaves a
 * record the next run, or {@code devbind restore}, puts back.
 *
 * <p>One small file per function under {@code <runtime directory>/bindings} ({@link
 * Host#runtimeDirectory()}, {@code /run/upcie} on a real machine): the address, the driver and
 * {@code driver_override} it had, the driver it was moved to, and the process that moved it.
 *
 * <pre>{@code
 * BindingJournal journal = BindingJournal.of(host);
 * journal.restoreOrphans(new PciDriverBinder(host.sysfs()));   // what a dead process left
 * PciBinding before = new PciDriverBinder(host.sysfs()).bind(address, "vfio-pci", journal);
 * ...
 * new PciDriverBinder(host.sysfs()).restore(before, journal);
 * }</pre>
 */
public final class BindingJournal {
  private final Path directory;

  private BindingJournal(Path directory) {
    this.directory = directory;
  }

  /** The journal of {@code host}. */
  public static BindingJournal of(Host host) {
    return at(host.runtimeDirectory().resolve("bindings"));
  }

  /** A journal kept in {@code directory}. */
  public static BindingJournal at(Path directory) {
    return new BindingJournal(directory);
  }

  /** Where the journal is kept. */
  public Path directory() {
    return directory;
  }

  /**
   * One journaled move.
   *
   * @param original what the function was bound to before
   * @param target the driver it was moved to
   * @param pid the process that moved it
   * @param since when
   */
  public record Entry(PciBinding original, String target, long pid, Instant since) {
    /** The {@link #pid} of an entry kept on purpose ({@link #keep}): no process owns it. */
    public static final long KEPT = 0;

    /**
     * True if the process that moved the function is gone without putting it back: nobody will but
     * us. A {@link #kept()} entry is never orphaned.
     */
    public boolean orphaned() {
      return pid != KEPT
          && pid != ProcessHandle.current().pid()
          && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    /** True if the move was meant to outlast its process ({@code devbind bind}). */
    public boolean kept() {
      return pid == KEPT;
    }

    @Override
    public String toString() {
      return original
          + " moved to "
          + target
          + (kept() ? " (kept until restored)" : " by process " + pid)
          + " at "
          + since;
    }
  }

  /**
   * Writes down that this process moves the function of {@code original} to {@code target}, and
   * syncs it to storage before returning. An entry for the same function made earlier by this
   * process is kept: it holds the binding from before the first move.
   *
   * @throws PciException if it cannot be written: then nothing may be moved
   */
  public void record(PciBinding original, String target) {
    Path file = file(original.address());
    Optional<Entry> existing = Files.isDirectory(directory) ? read(file) : Optional.empty();
    if (existing.isPresent() && existing.get().pid() == ProcessHandle.current().pid()) {
      return;
    }
    // A kept move is moved again: the binding from before the first move is the one to return to.
    PciBinding first = existing.filter(Entry::kept).map(Entry::original).orElse(original);
    write(file, first, target, ProcessHandle.current().pid());
  }

  /**
   * Marks the entry of {@code address} as meant to outlast this process: {@link #restoreOrphans}
   * leaves it alone, and only an explicit restore ({@code devbind restore}) puts it back.
   *
   * @throws PciException if there is no such entry, or it cannot be written
   */
  public void keep(PciAddress address) {
    Entry entry =
        entry(address)
            .orElseThrow(() -> new PciException("no journal entry for " + address + " to keep"));
    write(file(address), entry.original(), entry.target(), Entry.KEPT);
  }

  private void write(Path file, PciBinding original, String target, long pid) {
    Properties p = new Properties();
    p.setProperty("address", original.address().toString());
    p.setProperty("driver", original.driver().orElse(""));
    p.setProperty("driver_override", original.driverOverride().orElse(""));
    p.setProperty("target", target);
    p.setProperty("pid", Long.toString(pid));
    p.setProperty("since", Instant.now().toString());
    StringBuilder text = new StringBuilder();
    p.stringPropertyNames().stream()
        .sorted()
        .forEach(k -> text.append(k).append('=').append(p.getProperty(k)).append('\n'));
    try {
      Files.createDirectories(directory);
      Path temporary = directory.resolve(file.getFileName() + ".new");
      try (FileChannel channel =
          FileChannel.open(
              temporary,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        channel.write(java.nio.ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
        channel.force(true);
      }
      try {
        Files.move(
            temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
      syncDirectory();
    } catch (IOException e) {
      throw new PciException(
          "cannot journal the binding of "
              + original.address()
              + " in "
              + directory
              + " ("
              + e.getMessage()
              + "), so it is not moved; binding needs root, and "
              + directory.getParent()
              + " must be writable",
          e);
    }
  }

  /** Forgets the entry of {@code address}: its function is back where it was. */
  public void forget(PciAddress address) {
    try {
      Files.deleteIfExists(file(address));
      syncDirectory();
    } catch (IOException e) {
      throw new PciException("cannot remove " + file(address) + ": " + e.getMessage(), e);
    }
  }

  /** The entry of {@code address}, empty if none. */
  public Optional<Entry> entry(PciAddress address) {
    return read(file(address));
  }

  /** Every entry, by address. */
  public List<Entry> entries() {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    List<Entry> entries = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.sorted().toList()) {
        if (file.getFileName().toString().endsWith(".binding")) {
          read(file).ifPresent(entries::add);
        }
      }
    } catch (IOException e) {
      throw new PciException("cannot list " + directory + ": " + e.getMessage(), e);
    }
    return entries;
  }

  /**
   * Puts back every function whose journaling process is gone, and forgets its entry.
   *
   * @return what was put back
   * @throws PciException if one cannot be put back; its entry stays for the next attempt
   */
  public List<Entry> restoreOrphans(PciDriverBinder binder) {
    List<Entry> restored = new ArrayList<>();
    for (Entry entry : entries()) {
      if (entry.orphaned()) {
        binder.restore(entry.original());
        forget(entry.original().address());
        restored.add(entry);
      }
    }
    return restored;
  }

  private Path file(PciAddress address) {
    return directory.resolve(address.toString().replace(':', '_') + ".binding");
  }

  private static Optional<Entry> read(Path file) {
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new PciException("cannot read the binding journal " + file + ": " + e.getMessage(), e);
    }
    try {
      PciBinding original =
          new PciBinding(
              PciAddress.parse(p.getProperty("address", "")),
              nonEmpty(p.getProperty("driver", "")),
              nonEmpty(p.getProperty("driver_override", "")));
      return Optional.of(
          new Entry(
              original,
              p.getProperty("target", ""),
              Long.parseLong(p.getProperty("pid", "-1")),
              Instant.parse(p.getProperty("since", Instant.EPOCH.toString()))));
    } catch (RuntimeException e) {
      throw new PciException(
          "the binding journal " + file + " is damaged (" + e.getMessage() + "); remove it", e);
    }
  }

  private static Optional<String> nonEmpty(String value) {
    return value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  /** Makes a rename durable: only the default file system has directories to sync. */
  private void syncDirectory() throws IOException {
    if (directory.getFileSystem() == FileSystems.getDefault()) {
      try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
        dir.force(true);
      }
    }
  }
}
