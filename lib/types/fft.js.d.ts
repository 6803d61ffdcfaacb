/** Types for fft.js 4.0.4 (indutny), which ships none: only the parts realfake uses. */
declare module 'fft.js' {
  class FFT {
    constructor(size: number);
    readonly size: number;
    createComplexArray(): number[];
    toComplexArray(input: ArrayLike<number>, storage?: number[]): number[];
    /** Complex input and output, interleaved re, im. */
    transform(out: number[], data: ArrayLike<number>): void;
    /** Real input; fills the first half of `out` (complete it with completeSpectrum). */
    realTransform(out: number[], data: ArrayLike<number>): void;
    completeSpectrum(spectrum: number[]): void;
  }
  export = FFT;
}
