;; Sums of table rows, out[n] = table[rows[0][n]] + table[rows[1][n]] + ... +
;; table[rows[K-1][n]] (added in that order; rows [K, N] int32, table rows
;; `cols` floats long), without the [K, N, cols] gather a gather-then-sum
;; makes: the MLP's folded first layer (see MlpPolicy). Returns the position of
;; the first row index out of [0, tableRows), or -1 when all are in range.
;; Built into summedRowsWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "summedRows") (param $table i32) (param $rows i32) (param $out i32) (param $k i32) (param $n i32) (param $cols i32) (param $tableRows i32) (result i32)
    (local $i i32) (local $p i32) (local $j i32) (local $r i32) (local $rb i32) (local $src i32) (local $dst i32) (local $wide i32)
    (local.set $rb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $wide (i32.and (local.get $cols) (i32.const -4)))
    (block $done
      (loop $outputs
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.const 0))
        (block $terms_done
          (loop $terms
            (br_if $terms_done (i32.ge_u (local.get $p) (local.get $k)))
            (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $n)) (local.get $i)) (i32.const 2)))))
            ;; unsigned: a negative index is out of range too
            (if (i32.ge_u (local.get $r) (local.get $tableRows)) (then (return (i32.add (i32.mul (local.get $p) (local.get $n)) (local.get $i)))))
            (local.set $src (i32.add (local.get $table) (i32.mul (local.get $r) (local.get $rb))))
            (local.set $dst (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $rb))))
            (if (i32.eqz (local.get $p))
              (then (memory.copy (local.get $dst) (local.get $src) (local.get $rb)))
              (else
                (local.set $j (i32.const 0))
                (block $wide_done
                  (loop $wide_cols
                    (br_if $wide_done (i32.ge_u (local.get $j) (local.get $wide)))
                    (v128.store align=4 (local.get $dst) (f32x4.add (v128.load align=4 (local.get $dst)) (v128.load align=4 (local.get $src))))
                    (local.set $src (i32.add (local.get $src) (i32.const 16)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (local.set $j (i32.add (local.get $j) (i32.const 4)))
                    (br $wide_cols)))
                (block $tail_done
                  (loop $tail
                    (br_if $tail_done (i32.ge_u (local.get $j) (local.get $cols)))
                    (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
                    (local.set $src (i32.add (local.get $src) (i32.const 4)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $tail)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $terms)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outputs)))
    (i32.const -1)))
