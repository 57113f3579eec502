package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.it.device.KilledMidTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The guest's part of {@link KilledMidTest}: start a test run that binds QEMU's controller through
 * the extension, {@code kill -9} it once it holds the controller, run the next one, and write down
 * what the kernel showed after each step; and the host's check of that record.
 */
final class KillMidTest {
  static final String RECORD = "killed-mid-test.txt";

  private KillMidTest() {}

  /** Shell commands for {@link GuestSuite#before}: the controller must be on nvme. */
  static String guestCommands() {
    String held = KilledMidTest.class.getName() + "$Held";
    String next = KilledMidTest.class.getName() + "$NextRun";
    return """
    K="$RESULTS/%1$s"
    driver() { basename "$(readlink /sys/bus/pci/devices/0000:00:05.0/driver 2>/dev/null)"; }
    journal() { ls /run/upcie/bindings 2>/dev/null | tr '\\n' ' '; }
    rm -f /run/tmp/holding
    "$JAVA" $JOPTS --enable-native-access=ALL-UNNAMED -D%2$s=/run/tmp/holding -cp "$CP" \\
      org.junit.platform.console.ConsoleLauncher execute --select-class '%3$s' \\
      --disable-banner --disable-ansi-colors > "$RESULTS/killed-held.log" 2>&1 &
    held=$!
    i=0
    while [ ! -s /run/tmp/holding ] && [ $i -lt 900 ] && kill -0 $held 2>/dev/null; do
      sleep 0.2; i=$((i + 1))
    done
    echo "holding: $(cat /run/tmp/holding 2>/dev/null)" > "$K"
    echo "driver while held: $(driver)" >> "$K"
    kill -9 $held 2>/dev/null || true
    wait $held 2>/dev/null || true
    echo "driver after kill: $(driver)" >> "$K"
    echo "journal after kill: $(journal)" >> "$K"
    if jvm 'next run' $JOPTS --enable-native-access=ALL-UNNAMED -cp "$CP" \\
      org.junit.platform.console.ConsoleLauncher execute --select-class '%4$s' \\
      --disable-banner --disable-ansi-colors --details=tree > "$RESULTS/killed-next.log" 2>&1
    then echo "next run: passed" >> "$K"; else echo "next run: failed" >> "$K"; fi
    echo "driver after next run: $(driver)" >> "$K"
    echo "journal after next run: $(journal)" >> "$K"
    """
        .formatted(RECORD, KilledMidTest.HOLDING_FILE, held, next);
  }

  /** Asserts the record shows the binding held, left by the kill, and put back by the next run. */
  static void assertRestored(Path results, QemuGuest.Run run) throws IOException {
    Path record = results.resolve(RECORD);
    assertThat(record).as("the kill -9 record; console:%n%s", run.tail(40)).exists();
    String text = Files.readString(record);
    String logs =
        "\nkilled run:\n"
            + read(results.resolve("killed-held.log"))
            + "\nnext run:\n"
            + read(results.resolve("killed-next.log"));
    assertThat(text)
        .as("what the kernel showed at each step%s", logs)
        .contains("holding: 0000:00:05.0 1b36:0010")
        .contains("driver while held: vfio-pci\n")
        .contains("driver after kill: vfio-pci\n")
        .contains("journal after kill: 0000_00_05.0.binding \n")
        .contains("next run: passed\n")
        .contains("driver after next run: nvme\n")
        .contains("journal after next run: \n");
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file) : "(no " + file.getFileName() + ")";
  }
}
