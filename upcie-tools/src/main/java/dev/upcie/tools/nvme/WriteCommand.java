package dev.upcie.tools.nvme;

import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.UsageException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme write}: writes blocks of a namespace from a file or standard input, as {@code
 * nvme write} does.
 */
@Command(
    name = "write",
    mixinStandardHelpOptions = true,
    description = {
      "Write blocks of a namespace from a file (or standard input) as nvme write does; prints"
          + " \"write: Success\" on stderr. -c is 0-based, as nvme-cli's: -c 7 writes 8 blocks.",
      "The file must hold at least the bytes written (more are ignored). A range outside the"
          + " namespace, a -z that does not match, or a missing file is refused before any I/O.",
      "Example: upcie nvme write 0000:01:00.0 -n 1 -s 0 -c 7 -z 4096 -d in.bin"
    })
public final class WriteCommand implements Callable<Integer> {
  @Mixin NvmeTarget target;

  @Mixin TransferOptions transfer;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    transfer.check();
    Path file = transfer.data == null ? null : Path.of(transfer.data);
    if (file != null && !Files.isRegularFile(file)) {
      throw new UsageException(
          "--data "
              + file
              + ": "
              + (Files.exists(file) ? "not a regular file" : "no such file")
              + "; name the file whose data to write");
    }
    if (file != null && !Files.isReadable(file)) {
      throw new UsageException("--data " + file + ": this user may not read it");
    }
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      NvmeNamespace ns = NvmeTarget.namespace(nvme.controller(), transfer.nsid);
      long bytes = transfer.blocks() * ns.blockSize();
      transfer.checkDataSize(bytes, ns.blockSize());
      byte[] data = readData(file, (int) bytes);
      BlockIo.write(nvme.controller(), ns, transfer.startBlock, data);
    }
    spec.commandLine().getErr().println("write: Success");
    spec.commandLine().getErr().flush();
    return ExitCode.OK.code();
  }

  /** The first {@code bytes} bytes of the file (or standard input); fewer is a usage error. */
  private static byte[] readData(Path file, int bytes) {
    String source = file == null ? "standard input" : file.toString();
    try (InputStream in = file == null ? nonClosing(System.in) : Files.newInputStream(file)) {
      byte[] data = in.readNBytes(bytes);
      if (data.length < bytes) {
        throw new UsageException(
            source
                + " holds "
                + data.length
                + " bytes; writing "
                + bytes
                + " bytes needs at least as many");
      }
      return data;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
    }
  }

  private static InputStream nonClosing(InputStream in) {
    return new FilterInputStream(in) {
      @Override
      public void close() {
        // Standard input stays open for whoever runs next in this process.
      }
    };
  }
}
