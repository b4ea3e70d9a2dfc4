/** A question the page asks before it throws work away; one at a time. */
export interface Question {
  title: string;
  body: string;
  /** The label of the button that goes ahead, e.g. "Discard and switch". */
  confirm: string;
}

/** The page's one pending question; a dialog shows it and answers through `answer`. */
export class Confirmation {
  question = $state<Question | null>(null);
  #resolve: ((yes: boolean) => void) | null = null;

  ask(question: Question): Promise<boolean> {
    this.#resolve?.(false);
    this.question = question;
    return new Promise((resolve) => (this.#resolve = resolve));
  }

  answer(yes: boolean): void {
    const resolve = this.#resolve;
    this.#resolve = null;
    this.question = null;
    resolve?.(yes);
  }
}

/** The question an import asks before it replaces a run (see Session.openFile). */
export function replaceQuestion(confirmation: Confirmation): (what: { fileName: string; iterations: number }) => Promise<boolean> {
  return ({ fileName, iterations }) =>
    confirmation.ask({
      title: `Replace the run of ${iterations} iteration${iterations === 1 ? '' : 's'}?`,
      body: `Opening ${fileName} starts again from what it holds: the trained policy on screen, its curves and samples are replaced. Export the run first (Experiment, Policy) to keep a copy of it.`,
      confirm: 'Replace the run',
    });
}
