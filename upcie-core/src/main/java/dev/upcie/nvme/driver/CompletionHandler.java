package dev.upcie.nvme.driver;

/**
 * Receives the completions {@link NvmeQueuePair#reap} and {@link NvmeQueuePair#await} find, in the
 * order the controller posted them (not necessarily the order of submission).
 *
 * <pre>{@code
 * CompletionHandler handler = (tag, result, error) -> {
 *   if (error != null) throw error;             // names the command and its status
 *   done[(int) tag] = true;
 * };
 * }</pre>
 *
 * <p>A handler is called on the thread that reaps, with the command's slot already free, so it may
 * submit the next command at once. Nothing is allocated for a successful completion.
 */
@FunctionalInterface
public interface CompletionHandler {

  /**
   * One command completed.
   *
   * @param tag what the caller passed when it submitted the command
   * @param result the completion's Dword 0 (command specific)
   * @param error null on success; else the status, naming the command
   */
  void completed(long tag, int result, NvmeCommandException error);
}
