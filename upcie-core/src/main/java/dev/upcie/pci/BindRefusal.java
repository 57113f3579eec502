package dev.upcie.pci;

/**
 * One reason a safety check gives for not moving a function.
 *
 * @param check the check, whose {@link BindCheck#forceName()} overrides it
 * @param function the function it concerns
 * @param reason what it found: {@code /dev/nvme0n1p1 is mounted on /data}
 * @param fix what to do about it: {@code unmount it first (umount /data)}
 */
public record BindRefusal(BindCheck check, PciAddress function, String reason, String fix) {

  /** {@code 0000:01:00.0: /dev/nvme0n1p1 is mounted on /data [mounted]: unmount it first ...}. */
  @Override
  public String toString() {
    return function + ": " + reason + " [" + check.forceName() + "]: " + fix;
  }
}
