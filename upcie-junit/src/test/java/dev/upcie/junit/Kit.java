package dev.upcie.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/** Runs test classes through the Jupiter engine, as a user's build would, with settings. */
final class Kit {
  private final Map<String, String> settings = new LinkedHashMap<>();

  static Kit kit() {
    return new Kit();
  }

  Kit with(String key, String value) {
    settings.put(key, value);
    return this;
  }

  Kit backend(String backend) {
    return with(BackendChoice.PROPERTY, backend);
  }

  Kit sysfs(java.nio.file.Path root) {
    return with(Devices.SYSFS_ROOT_PROPERTY, root.toString());
  }

  EngineExecutionResults run(Class<?>... classes) {
    var request = EngineTestKit.engine("junit-jupiter");
    for (Class<?> c : classes) {
      request.selectors(selectClass(c));
    }
    settings.forEach(request::configurationParameter);
    return request.execute();
  }
}
