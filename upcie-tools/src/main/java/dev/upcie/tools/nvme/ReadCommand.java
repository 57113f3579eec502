package dev.upcie.tools.nvme;

import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.UsageException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme read}: reads blocks of a namespace into a file or standard output, as {@code
 * nvme read} does.
 */
@Command(
    name = "read",
    mixinStandardHelpOptions = true,
    description = {
      "Read blocks of a namespace to a file (or standard output) as nvme read does; prints"
          + " \"read: Success\" on stderr. -c is 0-based, as nvme-cli's: -c 7 reads 8 blocks.",
      "A range outside the namespace, or a -z that does not match, is refused before any I/O.",
      "Example: upcie nvme read 0000:01:00.0 -n 1 -s 0 -c 7 -z 4096 -d out.bin"
    })
public final class ReadCommand implements Callable<Integer> {
  @Mixin NvmeTarget target;

  @Mixin TransferOptions transfer;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    transfer.check();
    Path file = transfer.data == null ? null : Path.of(transfer.data);
    if (file != null) {
      checkWritable(file);
    }
    byte[] data;
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), transfer.nsid);
      transfer.checkDataSize(transfer.blocks() * ns.blockSize(), ns.blockSize());
      data = BlockIo.read(nvme.controller(), ns, transfer.startBlock, transfer.blocks());
    }
    try {
      if (file == null) {
        // Binary data: straight to the process's standard output, not through a character writer.
        OutputStream stdout = System.out;
        stdout.write(data);
        stdout.flush();
      } else {
        Files.write(file, data);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the data read to " + (file == null ? "standard output" : file) + ": " + e,
          e);
    }
    spec.commandLine().getErr().println("read: Success");
    spec.commandLine().getErr().flush();
    return ExitCode.OK.code();
  }

  /** Refuses, before any I/O, a data file that could not be written afterwards. */
  private static void checkWritable(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      throw new UsageException("--data " + file + " is a directory; name a file to write");
    }
    if (parent == null || !Files.isDirectory(parent)) {
      throw new UsageException("--data " + file + ": no such directory " + parent);
    }
    if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(parent)) {
      throw new UsageException("--data " + file + ": this user may not write it");
    }
  }
}
