package dev.upcie.sys;

/**
 * An ioctl request number with its name from the kernel headers, so a failure can say which request
 * failed.
 *
 * @param name the macro name, such as {@code VFIO_GROUP_GET_STATUS}
 * @param request the request number, such as {@code 0x3b67}
 */
public record Ioctl(String name, long request) {
  @Override
  public String toString() {
    return name + " (0x" + Long.toHexString(request) + ")";
  }
}
