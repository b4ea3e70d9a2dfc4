;; Rows of a tensor by index, out[i] = x[index[i]] (each row `rowBytes` long), for
;; the wasm backend's GatherV2 on the first axis: tfjs's kernel walks every
;; element with its own index arithmetic (about 3 ms for 1280 rows of 64 floats);
;; this copies whole rows. With $zeroRow set, the index `rows` (one past the
;; last row) writes a row of zeros: how rows move between layouts with gaps.
;; Returns the position of the first index out of range, or -1 when all are in
;; range (nothing is written past a bad one).
;; Built into gatherRowsWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "gatherRows") (param $x i32) (param $index i32) (param $out i32) (param $count i32) (param $rows i32) (param $rowBytes i32) (param $zeroRow i32) (result i32)
    (local $i i32) (local $r i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $r (i32.load (i32.add (local.get $index) (i32.shl (local.get $i) (i32.const 2)))))
        ;; unsigned: a negative index is out of range too
        (if (i32.lt_u (local.get $r) (local.get $rows))
          (then
            (memory.copy
              (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $rowBytes)))
              (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes)))
              (local.get $rowBytes)))
          (else
            (if (i32.and (local.get $zeroRow) (i32.eq (local.get $r) (local.get $rows)))
              (then (memory.fill (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $rowBytes))) (i32.const 0) (local.get $rowBytes)))
              (else (return (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.const -1)))
