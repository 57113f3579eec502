import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Rewrites the class files of a jar that are older than Java 6 (major version 49 or less, as
 * picocli ships them) as Java 8 class files, with the stack maps the newer format requires.
 *
 * <p>Why: the JVM can neither verify such old classes ahead of time nor keep them linked in an AOT
 * cache ({@code -XX:AOTCacheOutput} skips them: "Old class has been linked"), so every run of the
 * command line verified picocli's 200-odd classes with the slow old verifier, cache or not. The
 * code is unchanged; only the version and the stack maps (computed by the JDK's class-file API,
 * the same generator the JDK uses for its own generated classes) are new.
 *
 * <p>Run at build time in source-file mode: {@code java UpgradeOldClassFiles.java target/x.jar}.
 */
public final class UpgradeOldClassFiles {
  private static final int OLDEST_VERIFIABLE = ClassFile.JAVA_6_VERSION;

  public static void main(String[] args) throws IOException {
    Path jar = Path.of(args[0]);
    int upgraded = 0;
    try (FileSystem zip = FileSystems.newFileSystem(jar)) {
      Path root = zip.getPath("/");
      // Stack maps need each class's superclass and interfaces: the JDK's own, else the jar's.
      ClassFile classFile =
          ClassFile.of(
              ClassFile.ClassHierarchyResolverOption.of(
                  ClassHierarchyResolver.defaultResolver()
                      .orElse(ClassHierarchyResolver.ofResourceParsing(desc -> open(root, desc)))),
              ClassFile.StackMapsOption.GENERATE_STACK_MAPS);
      List<Path> classes;
      try (Stream<Path> files = Files.walk(root)) {
        classes =
            files
                .filter(f -> f.toString().endsWith(".class"))
                .filter(f -> !f.startsWith("/META-INF/"))
                .toList();
      }
      for (Path file : classes) {
        ClassModel model = classFile.parse(Files.readAllBytes(file));
        if (model.majorVersion() >= OLDEST_VERIFIABLE) {
          continue;
        }
        ClassTransform toJava8 =
            ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                .andThen(
                    (builder, element) -> {
                      if (element instanceof ClassFileVersion) {
                        builder.withVersion(ClassFile.JAVA_8_VERSION, 0);
                      } else {
                        builder.with(element);
                      }
                    });
        Files.write(file, classFile.transformClass(model, toJava8));
        upgraded++;
      }
    }
    System.out.println(
        "UpgradeOldClassFiles: " + upgraded + " class files in " + jar + " now Java 8 ones");
  }

  private static InputStream open(Path root, java.lang.constant.ClassDesc desc) {
    String name = desc.descriptorString();
    Path file = root.resolve(name.substring(1, name.length() - 1) + ".class");
    try {
      return Files.exists(file) ? Files.newInputStream(file) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
