package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --pagesize SIZE}: one hugepage size, checked against the kernel's. */
public final class PageSizeOption {
  @Option(
      names = "--pagesize",
      paramLabel = "SIZE",
      description =
          "The hugepage size: 2M, 1G... (reserve, mount: the default size; release: all).")
  String pageSize;

  /** The size asked for, if any, after checking the kernel has it. */
  Optional<PageSize> chosen(Hugepages hugepages) {
    return Optional.ofNullable(pageSize).map(s -> hugepages.requireSize(PageSize.parse(s)));
  }

  /** The size asked for, or the kernel's default size. */
  PageSize orDefault(Hugepages hugepages) {
    return chosen(hugepages).orElseGet(hugepages::defaultSize);
  }

  /** The size asked for, or every size the kernel has. */
  List<PageSize> orAll(Hugepages hugepages) {
    return chosen(hugepages).map(List::of).orElseGet(hugepages::sizes);
  }
}
