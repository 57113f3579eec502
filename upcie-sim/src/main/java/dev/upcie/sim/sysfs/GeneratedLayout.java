package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** A {@link SimFunction}'s directory, with BARs at the addresses the builder assigned. */
record GeneratedLayout(SimFunction function, long[] barAddresses) implements FunctionLayout {
  private static final HexFormat HEX = HexFormat.of();
  private static final String EMPTY_RESOURCE =
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";

  @Override
  public PciAddress address() {
    return function.address();
  }

  @Override
  public String dir() {
    return FunctionLayout.rootBusDir(function.address());
  }

  @Override
  public Optional<String> bootDriver() {
    return function.driver();
  }

  /**
   * Places the function's BARs below {@code top[0]}, each aligned to its size as firmware does, and
   * lowers {@code top[0]} past them for the next function.
   */
  static GeneratedLayout place(SimFunction f, long[] top) {
    long[] addresses = new long[6];
    for (int i = 0; i < 6; i++) {
      SimBar bar = f.bars().get(i);
      if (bar.implemented()) {
        addresses[i] = (top[0] - bar.size()) & -bar.size();
        top[0] = addresses[i];
      }
    }
    return new GeneratedLayout(f, addresses);
  }

  @Override
  public void layOut(SysfsTree files) {
    SimFunction f = function;
    String dir = dir();
    files.dir(dir);
    files.file(dir + "/vendor", hex4(f.id().vendor()));
    files.file(dir + "/device", hex4(f.id().device()));
    files.file(dir + "/subsystem_vendor", hex4(f.subsystem().vendor()));
    files.file(dir + "/subsystem_device", hex4(f.subsystem().device()));
    files.file(dir + "/class", f.classCode() + "\n");
    // What udev hands modprobe when the function appears: the kernel's pci_uevent format.
    files.file(
        dir + "/modalias",
        String.format(
            "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X%n",
            f.id().vendor(),
            f.id().device(),
            f.subsystem().vendor(),
            f.subsystem().device(),
            f.classCode().baseClass(),
            f.classCode().subClass(),
            f.classCode().progIf()));
    files.file(dir + "/revision", "0x" + HEX.toHexDigits((byte) f.revision()) + "\n");
    files.file(dir + "/numa_node", f.numaNode().orElse(-1) + "\n");
    files.file(dir + "/driver_override", f.driverOverride().orElse("(null)") + "\n");
    files.file(dir + "/enable", "0\n");
    files.file(dir + "/remove", "");
    files.file(dir + "/rescan", "");
    StringBuilder resource = new StringBuilder();
    for (int i = 0; i < 13; i++) {
      SimBar bar = i < 6 ? f.bars().get(i) : SimBar.NONE;
      if (!bar.implemented()) {
        resource.append(EMPTY_RESOURCE);
        continue;
      }
      long start = barAddresses[i];
      // IORESOURCE_MEM | IORESOURCE_SIZEALIGN, plus IORESOURCE_MEM_64 for a 64-bit BAR: the
      // flags QEMU's NVMe (0x140204) and edu (0x40200) BARs show in the recorded guest.
      long flags = bar.wide() ? 0x140204L : 0x40200L;
      resource.append("0x").append(HEX.toHexDigits(start));
      resource.append(" 0x").append(HEX.toHexDigits(start + bar.size() - 1));
      resource.append(" 0x").append(HEX.toHexDigits(flags)).append('\n');
    }
    files.file(dir + "/resource", resource.toString());
    for (int i = 0; i < 6; i++) {
      if (f.bars().get(i).implemented()) {
        files.file(dir + "/resource" + i, "");
      }
    }
    files.bytes(dir + "/config", config());
    files.link("bus/pci/devices/" + f.address(), dir);
    f.iommuGroup()
        .ifPresent(g -> {
          files.dir("kernel/iommu_groups/" + g + "/devices");
          files.link(dir + "/iommu_group", "kernel/iommu_groups/" + g);
          files.link("kernel/iommu_groups/" + g + "/devices/" + f.address(), dir);
        });
  }

  /**
   * A type 0 configuration header with the function's capability list: 256 bytes, or 4096 for a PCI
   * Express function (whose extended list is empty).
   */
  private byte[] config() {
    SimFunction f = function;
    ByteBuffer config =
        ByteBuffer.allocate(f.express() ? 4096 : 256).order(ByteOrder.LITTLE_ENDIAN);
    config.putShort(0x00, (short) f.id().vendor());
    config.putShort(0x02, (short) f.id().device());
    config.put(0x08, (byte) f.revision());
    config.put(0x09, (byte) f.classCode().progIf());
    config.put(0x0a, (byte) f.classCode().subClass());
    config.put(0x0b, (byte) f.classCode().baseClass());
    for (int i = 0; i < 6; i++) {
      if (barAddresses[i] == 0) {
        continue;
      }
      if (f.bars().get(i).wide()) {
        // 64-bit memory BAR: type bits 0b10; the upper half is the next slot.
        config.putLong(0x10 + 4 * i, barAddresses[i] | 0x4);
      } else {
        config.putInt(0x10 + 4 * i, (int) barAddresses[i]);
      }
    }
    config.putShort(0x2c, (short) f.subsystem().vendor());
    config.putShort(0x2e, (short) f.subsystem().device());
    config.put(0x3d, (byte) f.interruptPin());
    if (f.bars().stream().anyMatch(SimBar::implemented)) {
      // The firmware turned memory decoding on at boot, as SeaBIOS does for QEMU's functions.
      config.putShort(0x04, (short) 0x0002);
    }
    List<SimCapability> capabilities = f.capabilities();
    if (!capabilities.isEmpty()) {
      config.putShort(0x06, (short) 0x0010);
      config.put(0x34, (byte) capabilities.get(0).offset());
    }
    for (int i = 0; i < capabilities.size(); i++) {
      SimCapability c = capabilities.get(i);
      config.put(c.offset(), (byte) c.id());
      config.put(
          c.offset() + 1,
          (byte) (i + 1 < capabilities.size() ? capabilities.get(i + 1).offset() : 0));
      config.put(c.offset() + 2, c.body());
    }
    return config.array();
  }

  private static String hex4(int value) {
    return "0x" + HEX.toHexDigits((short) value) + "\n";
  }
}
