package dev.upcie.vfio;

import dev.upcie.sys.CHeaderCheck;
import dev.upcie.sys.Ioctl;
import java.lang.foreign.StructLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfioAbiTest {
  @Test
  void everyRequestConstantAndStructMatchesLinuxVfioH(@TempDir Path dir) throws Exception {
    CHeaderCheck check = new CHeaderCheck("linux/vfio.h");
    for (Ioctl ioctl : VfioAbi.IOCTLS) {
      check.expect(ioctl.name(), ioctl.request());
    }
    for (Map.Entry<String, Long> constant : VfioAbi.CONSTANTS.entrySet()) {
      check.expect(constant.getKey(), constant.getValue());
    }
    for (StructLayout struct : VfioAbi.STRUCTS) {
      check.expectStruct(struct);
    }
    check.verify(dir);
  }
}
