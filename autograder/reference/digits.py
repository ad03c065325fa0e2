"""The chapter's data set: scikit-learn's handwritten digits, split once.

Kept apart from :mod:`autograder.reference` (whose flat namespace does not import it)
because the split is scikit-learn's, and importing scikit-learn costs half a second:
the grader, its zygotes and a student's ``check`` import the reference and need
only :func:`~autograder.reference.softmax_regression.digits_data`, which reads the
images with NumPy.  The chapter, its tests and the exercise's demo import this module.
"""

from sklearn.model_selection import train_test_split

from autograder.reference.softmax_regression import digits_data, standardize

__all__ = ["load_digits_split"]


def load_digits_split(test_size=0.25, random_state=0):
    r"""The handwritten digits, split into a training and a test set, and standardised.

    Parameters
    ----------
    test_size : float, optional
        The fraction of the 1797 images held out for testing (default 0.25: 450
        test images, 1347 training images).
    random_state : int, optional
        Seed of the shuffle (default 0: the split used throughout the course).

    Returns
    -------
    X_train : ndarray, shape (N_train, 64)
        Training images, flattened row by row, standardised with their own
        per-pixel mean and standard deviation.
    X_test : ndarray, shape (N_test, 64)
        Test images, standardised with the *training* statistics.
    y_train, y_test : ndarray of int64
        The digits 0 to 9 shown in the images.

    Raises
    ------
    ValueError
        From scikit-learn's ``train_test_split``: if ``test_size`` is not a fraction in
        ``(0, 1)`` or a number of images smaller than 1797, or if it leaves the training or
        the test part fewer images than there are digits (10), which a stratified split
        needs.

    See Also
    --------
    digits_data : The images and labels, unsplit and unscaled.
    standardize : The scaling applied to both parts.
    softmax_regression_fit : Trains the model on the training part.

    Notes
    -----
    The data are ``sklearn.datasets.load_digits`` (bundled with scikit-learn, no
    download): 8x8 images of handwritten digits with pixel values 0 to 16, about
    180 per class.  The split is
    ``train_test_split(X, y, test_size=test_size, random_state=random_state,
    stratify=y)``, so both parts hold every digit in the proportions of the whole
    set; the features are then transformed by :func:`standardize`.

    References
    ----------
    .. [1] E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten Digits",
       UCI Machine Learning Repository, 1998.

    Examples
    --------
    >>> import numpy as np
    >>> from autograder.reference.digits import load_digits_split
    >>> X_train, X_test, y_train, y_test = load_digits_split()
    >>> X_train.shape, X_test.shape
    ((1347, 64), (450, 64))
    >>> print(np.bincount(y_test))
    [45 46 44 46 45 46 45 45 43 45]
    """
    X, y = digits_data()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    X_train, X_test = standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test
