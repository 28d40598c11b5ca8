"""`apexspot spot`: the trained spotter on a recording of your own.

The recording goes through the pipeline's own face alignment and flow, with the params the
models were trained with (models/params.yaml, written by the train stage), and every fold
model scores it; their scores are averaged and the apex is spotted as in evaluation.

Frames are named as the recording names them: in a folder, by the number in each file name
(a CASME II clip folder gives the coding sheet's frame numbers); in a video, by the 0-based
frame index (and the time in seconds). Everything that can be checked (the models folder,
the window) is checked before TensorFlow is loaded.
"""
