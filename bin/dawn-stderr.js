// Keeps Dawn's start-up chatter off the terminal. Dawn (the WebGPU implementation under Node)
// prints its warnings straight to the process's stderr from native code, so they cannot be
// caught in JavaScript: "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially
// reduced ...", "Warning: vkCreateInstance: Found no drivers!" with an indented "    at ..."
// trace, on every run on a machine without a real GPU. bin/hypertape.js runs the command in a
// child process and passes its stderr through this filter, which drops Dawn's "Warning:" and
// "Info:" blocks and keeps every other line (Dawn's errors, validation messages, ours).

/** True for the first line of a block the filter drops. */
export function isDawnNotice(line) {
  return /^(Warning|Info): /.test(line);
}

/**
 * A line filter for a stream of text: `push(chunk)` as chunks arrive, `end()` at the end;
 * `write` receives the kept text, whole lines at a time.
 */
export function createDawnFilter(write) {
  let pending = '';
  let dropping = false;
  const line = (text) => {
    if (isDawnNotice(text)) {
      dropping = true;
      return;
    }
    // A dropped block goes on with indented lines ("    at ...") and the blank line after it.
    if (dropping && (text === '' || /^\s/.test(text))) return;
    dropping = false;
    write(text + '\n');
  };
  return {
    push(chunk) {
      pending += chunk;
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        line(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
    },
    end() {
      if (pending) {
        const last = pending;
        pending = '';
        if (!isDawnNotice(last) && !(dropping && /^\s/.test(last))) write(last);
      }
    },
  };
}
