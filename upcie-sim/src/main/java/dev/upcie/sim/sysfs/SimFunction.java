package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A PCI function as the simulated kernel first enumerates it: identity, BAR sizes, the driver it
 * starts on, and its place in the IOMMU and NUMA topology.
 *
 * <pre>{@code
 * SimFunction nvme = SimFunction.builder("0000:00:05.0")
 *     .id(0x1b36, 0x0010).classCode(0x010802).revision(2)
 *     .bar64(0, 16 * 1024).driver("nvme").iommuGroup(5)
 *     .build();
 * }</pre>
 *
 * @param address where the function sits
 * @param id vendor and device id
 * @param subsystem subsystem vendor and device id
 * @param classCode class code
 * @param revision revision id
 * @param driver the driver bound at boot, empty for none
 * @param driverOverride the {@code driver_override} it starts with, empty for none
 * @param iommuGroup the IOMMU group, empty for a machine without IOMMU
 * @param numaNode the NUMA node, empty for none ({@code -1} in sysfs)
 * @param bars the six BAR slots; a 64-bit BAR leaves the slot after it {@link SimBar#NONE}
 * @param interruptPin the interrupt pin, 0 for none, 1 to 4 for INTA# to INTD#
 * @param capabilities the standard capabilities, in list order
 * @param express true for a PCI Express function, whose configuration space is 4096 bytes
 */
public record SimFunction(
    PciAddress address,
    PciId id,
    PciId subsystem,
    PciClassCode classCode,
    int revision,
    Optional<String> driver,
    Optional<String> driverOverride,
    OptionalInt iommuGroup,
    OptionalInt numaNode,
    List<SimBar> bars,
    int interruptPin,
    List<SimCapability> capabilities,
    boolean express) {

  /** Checks the BAR slots: six, and a 64-bit BAR followed by an empty slot. */
  public SimFunction {
    Objects.requireNonNull(address, "address");
    bars = List.copyOf(bars);
    capabilities = List.copyOf(capabilities);
    if (interruptPin < 0 || interruptPin > 4) {
      throw new IllegalArgumentException("interrupt pin must be 0 to 4: " + interruptPin);
    }
    if (bars.size() != 6) {
      throw new IllegalArgumentException("a PCI function has 6 BAR slots, got " + bars.size());
    }
    for (int i = 0; i < 6; i++) {
      if (bars.get(i).wide() && (i == 5 || bars.get(i + 1).implemented())) {
        throw new IllegalArgumentException(
            "the 64-bit BAR"
                + i
                + " of "
                + address
                + " needs slot "
                + (i + 1)
                + " for its upper half");
      }
    }
  }

  /** Starts a function at {@code address} ({@code dddd:bb:dd.f} or {@code bb:dd.f}). */
  public static Builder builder(String address) {
    return new Builder(PciAddress.parse(address));
  }

  /** Builds a {@link SimFunction}; unset ids are 0, the class is unclassified, no driver. */
  public static final class Builder {
    private final PciAddress address;
    private PciId id = new PciId(0, 0);
    private PciId subsystem = new PciId(0, 0);
    private PciClassCode classCode = new PciClassCode(0);
    private int revision;
    private String driver;
    private String driverOverride;
    private Integer iommuGroup;
    private Integer numaNode;
    private int interruptPin;
    private boolean express;
    private final List<SimCapability> capabilities = new ArrayList<>();
    private final SimBar[] bars = {
      SimBar.NONE, SimBar.NONE, SimBar.NONE, SimBar.NONE, SimBar.NONE, SimBar.NONE
    };

    private Builder(PciAddress address) {
      this.address = address;
    }

    /** Vendor and device id. */
    public Builder id(int vendor, int device) {
      this.id = new PciId(vendor, device);
      return this;
    }

    /** Subsystem vendor and device id. */
    public Builder subsystem(int vendor, int device) {
      this.subsystem = new PciId(vendor, device);
      return this;
    }

    /** The 24-bit class code, such as {@code 0x010802}. */
    public Builder classCode(int classCode) {
      this.classCode = new PciClassCode(classCode);
      return this;
    }

    /** The revision id. */
    public Builder revision(int revision) {
      this.revision = revision;
      return this;
    }

    /** A 32-bit memory BAR of {@code size} bytes in slot {@code index}. */
    public Builder bar(int index, long size) {
      Objects.checkIndex(index, 6);
      bars[index] = new SimBar(size, false);
      return this;
    }

    /** A 64-bit memory BAR of {@code size} bytes in slot {@code index} (and {@code index + 1}). */
    public Builder bar64(int index, long size) {
      Objects.checkIndex(index, 6);
      bars[index] = new SimBar(size, true);
      return this;
    }

    /** The driver bound at boot; it must be one of the machine's drivers. */
    public Builder driver(String driver) {
      this.driver = driver;
      return this;
    }

    /**
     * The {@code driver_override} it starts with, as a machine shows it after a binder (driverctl,
     * dpdk-devbind, {@code PciDriverBinder}) handed the function to that driver.
     */
    public Builder driverOverride(String driver) {
      this.driverOverride = driver;
      return this;
    }

    /** The IOMMU group; leave unset for a machine without IOMMU. */
    public Builder iommuGroup(int group) {
      this.iommuGroup = group;
      return this;
    }

    /** The NUMA node; leave unset for none. */
    public Builder numaNode(int node) {
      this.numaNode = node;
      return this;
    }

    /** The interrupt pin: 1 to 4 for INTA# to INTD#, 0 (the default) for none. */
    public Builder interruptPin(int pin) {
      this.interruptPin = pin;
      return this;
    }

    /** Makes it a PCI Express function: a 4096-byte configuration space. */
    public Builder pciExpress() {
      this.express = true;
      return this;
    }

    /**
     * Adds a standard capability at {@code offset}; the list is chained in the order added.
     *
     * @param body the bytes after the id and next pointer
     */
    public Builder capability(int offset, int id, byte... body) {
      capabilities.add(new SimCapability(offset, id, body));
      return this;
    }

    /** Adds a standard capability; the list is chained in the order added. */
    public Builder capability(SimCapability capability) {
      capabilities.add(capability);
      return this;
    }

    /** The function. */
    public SimFunction build() {
      return new SimFunction(
          address,
          id,
          subsystem,
          classCode,
          revision,
          Optional.ofNullable(driver),
          Optional.ofNullable(driverOverride),
          iommuGroup == null ? OptionalInt.empty() : OptionalInt.of(iommuGroup),
          numaNode == null ? OptionalInt.empty() : OptionalInt.of(numaNode),
          List.of(bars),
          interruptPin,
          capabilities,
          express);
    }
  }
}
