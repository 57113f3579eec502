package dev.upcie.pci;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the peer tools print, read into address → driver maps ({@code "-"} for none), so a test can
 * hold {@code devbind list} to them: {@code lspci -Dk}, {@code driverctl list-devices} and {@code
 * dpdk-devbind.py --status}.
 */
public final class PeerListings {
  private static final Pattern ADDRESS =
      Pattern.compile("^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]) ");
  private static final Pattern DRIVER_IN_USE = Pattern.compile("^\\s+Kernel driver in use: (\\S+)");
  private static final Pattern DPDK_DRIVER = Pattern.compile(" drv=(\\S+)");

  private PeerListings() {}

  /** {@code lspci -Dk}: every function, with its "Kernel driver in use" line if it has one. */
  public static Map<String, String> lspci(String output) {
    Map<String, String> drivers = new TreeMap<>();
    String current = null;
    for (String line : output.split("\n")) {
      Matcher address = ADDRESS.matcher(line);
      Matcher driver = DRIVER_IN_USE.matcher(line);
      if (address.find()) {
        current = address.group(1);
        drivers.put(current, "-");
      } else if (current != null && driver.find()) {
        drivers.put(current, driver.group(1));
      }
    }
    return drivers;
  }

  /** {@code driverctl list-devices}: {@code 0000:00:02.0 virtio-pci}, or {@code (none)}. */
  public static Map<String, String> driverctl(String output) {
    Map<String, String> drivers = new TreeMap<>();
    for (String line : output.split("\n")) {
      String[] fields = line.strip().split("\\s+");
      if (fields.length >= 2 && ADDRESS.matcher(fields[0] + " ").find()) {
        drivers.put(fields[0], fields[1].equals("(none)") ? "-" : fields[1]);
      }
    }
    return drivers;
  }

  /**
   * {@code dpdk-devbind.py --status}: only the classes it knows (network, crypto, DMA, ...), each
   * with {@code drv=} when bound.
   */
  public static Map<String, String> dpdkDevbind(String output) {
    Map<String, String> drivers = new TreeMap<>();
    for (String line : output.split("\n")) {
      Matcher address = ADDRESS.matcher(line);
      if (address.find()) {
        Matcher driver = DPDK_DRIVER.matcher(line);
        drivers.put(address.group(1), driver.find() ? driver.group(1) : "-");
      }
    }
    return drivers;
  }
}
