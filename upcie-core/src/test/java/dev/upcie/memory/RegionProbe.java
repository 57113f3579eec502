package dev.upcie.memory;

import dev.upcie.hugepages.PageSize;
import dev.upcie.support.UpcieException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * The other process in {@link HugepageRegionTest}: {@code import PATH} reads the marker at offset 0
 * of exported hugepages and answers at offset 8; {@code physical} allocates a region and asks for
 * its physical addresses.
 */
public final class RegionProbe {
  private RegionProbe() {}

  public static void main(String[] args) {
    try {
      switch (args[0]) {
        case "import" -> {
          try (HugepageRegion region = HugepageRegion.importFrom(Path.of(args[1]))) {
            long marker = region.segment().get(ValueLayout.JAVA_LONG, 0);
            region.segment().set(ValueLayout.JAVA_LONG, 8, ~marker);
            System.out.println(
                "marker "
                    + Long.toHexString(marker)
                    + " size "
                    + region.size()
                    + " page "
                    + region.pageSize());
          }
        }
        case "allocate" -> {
          long size = Long.parseLong(args[1]);
          try (HugepageRegion region = HugepageRegion.allocate(size, PageSize.parse("2M"))) {
            region.segment().set(ValueLayout.JAVA_LONG, size - 8, 1);
            System.out.println("allocated " + region.size());
          }
        }
        case "physical" -> {
          try (HugepageRegion region = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"))) {
            System.out.println("physical " + region.physicalTranslation());
          }
        }
        default -> throw new IllegalArgumentException(args[0]);
      }
    } catch (UpcieException e) {
      System.out.println("refused: " + e.getMessage());
      System.exit(3);
    }
  }
}
