/** The charts' smoothing (an exponential moving average's weight), shared by the live charts and the comparison of saved runs. */
export const chartSettings = $state({ smoothing: 0.6 });
